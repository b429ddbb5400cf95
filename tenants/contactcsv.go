package tenants

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
	"golang.org/x/text/encoding/charmap"
	unicodeenc "golang.org/x/text/encoding/unicode"
)

// Contacts from CSV: the files Outlook, Google Contacts and Thunderbird
// export (Apple exports vCards), with header-named columns. Known headers
// are mapped; others are named in the report and left out (there is no
// interactive mapping step).

// csvField is what a known column holds.
type csvField int

const (
	csvNone csvField = iota
	csvFullName
	csvGiven
	csvFamily
	csvEmail
	csvPhone
	csvOrg
	csvTitle
	csvNote
)

// csvColumn maps a header, lower case with only letters and digits kept.
func csvColumn(h string) csvField {
	n := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, h)
	switch n {
	case "name", "displayname", "fullname":
		return csvFullName
	case "firstname", "givenname":
		return csvGiven
	case "lastname", "familyname", "surname":
		return csvFamily
	case "company", "organization", "organisation", "organization1name", "organizationname", "org":
		return csvOrg
	case "jobtitle", "organization1title", "organizationtitle":
		return csvTitle
	case "notes", "note":
		return csvNote
	}
	if strings.Contains(n, "type") || strings.Contains(n, "label") {
		return csvNone
	}
	switch {
	case strings.Contains(n, "email"), strings.Contains(n, "mail") && strings.Contains(n, "address"):
		return csvEmail
	case strings.Contains(n, "phone"), strings.Contains(n, "mobile"), strings.Contains(n, "fax"), n == "tel":
		return csvPhone
	}
	return csvNone
}

// decodeText gives a file's text as UTF-8: a UTF-8 or UTF-16 byte order
// mark is honoured, other text that is not UTF-8 is read as Windows-1252.
func decodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		out, err := unicodeenc.UTF16(unicodeenc.LittleEndian, unicodeenc.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return "", invalid("file", "is not valid UTF-16")
		}
		return string(out), nil
	}
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return "", invalid("file", "is neither UTF-8, UTF-16 nor Windows-1252 text")
	}
	return string(out), nil
}

// contactsFromCSV turns a CSV file into vCards: one per row with a name or
// an address. Errors are per row, or for the file (err).
func contactsFromCSV(text string) (cards []vcard.Card, rowErrs, ignored []string, err error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err == io.EOF {
		return nil, nil, nil, invalid("file", "is empty")
	}
	if err != nil {
		return nil, nil, nil, invalid("file", "is not CSV: %v", err)
	}
	cols := make([]csvField, len(head))
	known := false
	for i, h := range head {
		if cols[i] = csvColumn(h); cols[i] != csvNone {
			known = true
		} else if strings.TrimSpace(h) != "" {
			ignored = append(ignored, strings.TrimSpace(h))
		}
	}
	if !known {
		return nil, nil, nil, invalid("file", "has no column this import knows (name, first name, last name, e-mail, phone, company, job title, notes)")
	}
	sort.Strings(ignored)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, nil, invalid("file", "broken CSV at line %d: %v", pe.Line, pe.Err)
			}
			return nil, nil, nil, invalid("file", "is not CSV: %v", err)
		}
		if len(cards)+len(rowErrs) >= MaxContactImportCards {
			return nil, nil, nil, invalid("file", "holds more than %d rows", MaxContactImportCards)
		}
		var f ContactFields
		bad := ""
		for i, v := range rec {
			if i >= len(cols) || cols[i] == csvNone {
				continue
			}
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if strings.HasPrefix(v, "=") {
				bad = fmt.Sprintf("row %d: column %q holds a formula", line, head[i])
				break
			}
			switch cols[i] {
			case csvFullName:
				f.FullName = v
			case csvGiven:
				f.GivenName = v
			case csvFamily:
				f.FamilyName = v
			case csvEmail:
				f.Emails = append(f.Emails, v)
			case csvPhone:
				f.Phones = append(f.Phones, v)
			case csvOrg:
				f.Org = v
			case csvTitle:
				f.Title = v
			case csvNote:
				f.Note = strings.ReplaceAll(v, "\r\n", "\n")
			}
		}
		if bad != "" {
			rowErrs = append(rowErrs, bad)
			continue
		}
		if f.FullName == "" {
			f.FullName = strings.TrimSpace(f.GivenName + " " + f.FamilyName)
		}
		if f.FullName == "" && len(f.Emails) == 0 {
			continue // an empty row
		}
		card, err := f.Card()
		if err != nil {
			rowErrs = append(rowErrs, fmt.Sprintf("row %d: %v", line, err))
			continue
		}
		cards = append(cards, card)
	}
	return cards, rowErrs, ignored, nil
}

// ContactsCSV writes contacts as CSV (the columns Outlook and Thunderbird
// read), every cell escaped against spreadsheet formulas.
func ContactsCSV(w io.Writer, cs []Contact) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"Name", "First Name", "Last Name", "E-mail Address", "E-mail 2 Address", "Phone", "Company", "Job Title"}); err != nil {
		return err
	}
	for _, c := range cs {
		e1, e2 := "", ""
		if len(c.Emails) > 0 {
			e1 = c.Emails[0]
		}
		if len(c.Emails) > 1 {
			e2 = c.Emails[1]
		}
		rec := []string{c.FullName, c.GivenName, c.FamilyName, e1, e2, strings.Join(c.Phones, "; "), c.Org, c.Title}
		for i := range rec {
			rec[i] = CSVCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
