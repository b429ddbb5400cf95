package tenants

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-vcard"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/address"
)

// The global address book and the directory as the domain's managers
// (system administrators, its postmasters) reach them through the panel,
// the CLI and the API, by scope. Users reach them through ContactBooks.

// Import limits: one file, all or nothing.
const (
	MaxContactImportBytes = MaxImportBytes
	MaxContactImportCards = 10000
)

// ImportReport is what an import did, or why it did nothing.
type ImportReport struct {
	Imported int
	Skipped  []string // duplicates (an address already in the book), by name
	Errors   []string // per card or row; any error leaves the book unchanged
	Ignored  []string // CSV columns not imported
}

// gabTx is the GAB of a domain the scope manages, made when missing.
func (s *Service) gabTx(tx *gorm.DB, sc Scope, domain address.Domain) (int64, *Domain, error) {
	if sc.Role == RoleUser {
		return 0, nil, ErrForbidden
	}
	d, err := s.domainTx(tx, sc, domain)
	if err != nil {
		return 0, nil, err
	}
	if d.IsAlias() {
		return 0, nil, fmt.Errorf("%s is an alias domain: %w", domain, ErrNotFound)
	}
	if err := tx.Exec("INSERT INTO address_books (domain_id, owner_mailbox_id, slug, name, domain_read, sync_seq, created_at) VALUES (?, NULL, ?, ?, FALSE, 0, ?) ON CONFLICT DO NOTHING",
		d.ID, gabSlug, "Global address book", s.clock()).Error; err != nil {
		return 0, nil, fmt.Errorf("make the global address book: %w", err)
	}
	var id int64
	if err := tx.Raw("SELECT id FROM address_books WHERE domain_id = ? AND owner_mailbox_id IS NULL AND slug = ?", d.ID, gabSlug).Scan(&id).Error; err != nil {
		return 0, nil, fmt.Errorf("look up the global address book: %w", err)
	}
	return id, d, nil
}

// GABContacts lists a domain's GAB, those whose name, address or
// organisation holds search when it is set, by name; at most limit
// (MaxBookContacts when 0).
func (s *Service) GABContacts(ctx context.Context, sc Scope, domain address.Domain, search string, limit int) ([]Contact, error) {
	var out []Contact
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		id, _, err := s.gabTx(tx, sc, domain)
		if err != nil {
			return err
		}
		if limit <= 0 || limit > MaxBookContacts {
			limit = MaxBookContacts
		}
		q := tx.Where("book_id = ?", id)
		if search = strings.TrimSpace(search); search != "" {
			pat := database.Contains(search)
			q = q.Where("(LOWER(full_name) LIKE ? ESCAPE '\\' OR emails LIKE ? ESCAPE '\\' OR LOWER(org) LIKE ? ESCAPE '\\')", pat, pat, pat)
		}
		var rows []contactRow
		if err := q.Order("full_name, href").Limit(limit).Find(&rows).Error; err != nil {
			return fmt.Errorf("list the global address book: %w", err)
		}
		for i := range rows {
			out = append(out, rows[i].contact())
		}
		return nil
	})
	return out, err
}

// gabHref is the resource name of a GAB contact added by UID: a digest, so
// that any UID gives a safe name.
func gabHref(uid string) string {
	h := sha256.Sum256([]byte(uid))
	return "g" + hex.EncodeToString(h[:12]) + ".vcf"
}

// PutGABContact adds a contact to a domain's GAB, or replaces the one with
// the same UID; created says which.
func (s *Service) PutGABContact(ctx context.Context, sc Scope, domain address.Domain, card vcard.Card) (*Contact, bool, error) {
	row, err := contactFromCard(card)
	if err != nil {
		return nil, false, err
	}
	var created bool
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		id, d, err := s.gabTx(tx, sc, domain)
		if err != nil {
			return err
		}
		href := gabHref(row.UID)
		var old contactRow
		if err := tx.Where("book_id = ? AND uid = ?", id, row.UID).Take(&old).Error; err == nil {
			href = old.Href
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("look up contact: %w", err)
		}
		if created, err = s.putContactTx(tx, id, href, &row, PutCondition{}); err != nil {
			return err
		}
		return s.audit(tx, sc, &d.ID, "gab.put", "%s: %s", domain, row.UID)
	})
	if err != nil {
		return nil, false, err
	}
	c := row.contact()
	return &c, created, nil
}

// DeleteGABContact removes the GAB contact with this UID.
func (s *Service) DeleteGABContact(ctx context.Context, sc Scope, domain address.Domain, uid string) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		id, d, err := s.gabTx(tx, sc, domain)
		if err != nil {
			return err
		}
		var old contactRow
		err = tx.Where("book_id = ? AND uid = ?", id, uid).Take(&old).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("contact %q: %w", uid, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("look up contact: %w", err)
		}
		if err := s.deleteContactTx(tx, id, old.Href, ""); err != nil {
			return err
		}
		return s.audit(tx, sc, &d.ID, "gab.delete", "%s: %s", domain, uid)
	})
}

// ImportGAB adds the contacts of a file to a domain's GAB: vCards (3.0 or
// 4.0) or CSV (contactsFromCSV), in UTF-8, UTF-16 with a byte order mark
// or Windows-1252, up to MaxContactImportCards and MaxContactImportBytes; all or
// nothing: any invalid card leaves the book as it was and is named in the
// report. A card without UID gets one made from its content; a card with
// an address the book (or an earlier card of the file) already has is
// skipped and listed, unless importDuplicates.
func (s *Service) ImportGAB(ctx context.Context, sc Scope, domain address.Domain, r io.Reader, importDuplicates bool) (*ImportReport, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxContactImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the file: %w", err)
	}
	if len(data) > MaxContactImportBytes {
		return nil, invalid("file", "is larger than %d MiB", MaxContactImportBytes>>20)
	}
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	rep := &ImportReport{}
	var cards []vcard.Card
	if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), "BEGIN:VCARD") {
		dec := vcard.NewDecoder(strings.NewReader(text))
		for n := 1; ; n++ {
			card, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("card %d: not a valid vCard: %v", n, err))
				break // the decoder cannot resynchronise
			}
			if n > MaxContactImportCards {
				return nil, invalid("file", "holds more than %d vCards", MaxContactImportCards)
			}
			cards = append(cards, card)
		}
	} else {
		var rowErrs []string
		cards, rowErrs, rep.Ignored, err = contactsFromCSV(text)
		if err != nil {
			return nil, err
		}
		rep.Errors = append(rep.Errors, rowErrs...)
	}
	var rows []contactRow
	for n, card := range cards {
		if card.Value(vcard.FieldUID) == "" {
			var buf bytes.Buffer
			_ = vcard.NewEncoder(&buf).Encode(card)
			h := sha256.Sum256(buf.Bytes())
			card.SetValue(vcard.FieldUID, "urn:x-postdesk:import:"+hex.EncodeToString(h[:16]))
		}
		row, err := contactFromCard(card)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("card %d: %v", n+1, err))
			continue
		}
		rows = append(rows, row)
	}
	if len(rep.Errors) > 0 {
		return rep, invalid("file", "%d of its vCards are invalid; nothing was imported", len(rep.Errors))
	}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		rep.Imported, rep.Skipped = 0, nil
		id, d, err := s.gabTx(tx, sc, domain)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		if !importDuplicates {
			var have []string
			if err := tx.Model(&contactRow{}).Where("book_id = ?", id).Pluck("emails", &have).Error; err != nil {
				return fmt.Errorf("list addresses: %w", err)
			}
			for _, h := range have {
				for _, e := range splitLines(h) {
					seen[e] = true
				}
			}
		}
		for i := range rows {
			row := &rows[i]
			dup := false
			for _, e := range splitLines(row.Emails) {
				dup = dup || seen[e]
			}
			if dup && !importDuplicates {
				rep.Skipped = append(rep.Skipped, row.FullName)
				continue
			}
			for _, e := range splitLines(row.Emails) {
				seen[e] = true
			}
			href := gabHref(row.UID)
			var old contactRow
			if err := tx.Where("book_id = ? AND uid = ?", id, row.UID).Take(&old).Error; err == nil {
				href = old.Href
			} else if !errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("look up contact: %w", err)
			}
			if _, err := s.putContactTx(tx, id, href, row, PutCondition{}); err != nil {
				return fmt.Errorf("card %d: %w", i+1, err)
			}
			rep.Imported++
		}
		return s.audit(tx, sc, &d.ID, "gab.import", "%s: %d imported, %d skipped", domain, rep.Imported, len(rep.Skipped))
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// DomainDirectory is a domain's local directory as its managers see it.
func (s *Service) DomainDirectory(ctx context.Context, sc Scope, domain address.Domain) ([]DirectoryPerson, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	d, err := s.domainTx(s.db.Read(ctx), sc, domain)
	if err != nil {
		return nil, err
	}
	return s.directoryPeople(ctx, d.ID, "", 0)
}

// ContactFields are a contact's fields as the panel and the API take them.
type ContactFields struct {
	UID        string // empty: a new one
	FullName   string
	FamilyName string
	GivenName  string
	Emails     []string
	Phones     []string
	Org        string
	Title      string
	Note       string
}

// Card checks the fields and makes a vCard 4.0 of them.
func (f ContactFields) Card() (vcard.Card, error) {
	for _, c := range []struct {
		field, v string
		max      int
	}{{"uid", f.UID, maxHrefLen}, {"full_name", f.FullName, 200}, {"family_name", f.FamilyName, 200},
		{"given_name", f.GivenName, 200}, {"org", f.Org, 200}, {"title", f.Title, 200}} {
		if err := checkText(c.field, c.v, c.max); err != nil {
			return nil, err
		}
	}
	if err := checkText("note", strings.ReplaceAll(f.Note, "\n", " "), 4000); err != nil {
		return nil, err
	}
	if len(f.Emails) > 20 || len(f.Phones) > 20 {
		return nil, invalid("emails", "at most 20 addresses and 20 phone numbers")
	}
	for _, e := range f.Emails {
		if _, err := address.ParseAddress(e); err != nil {
			return nil, invalid("emails", "%q is not an address", e)
		}
	}
	for _, p := range f.Phones {
		if err := checkText("phones", p, 100); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(f.FullName) == "" && len(f.Emails) == 0 {
		return nil, invalid("full_name", "give a name or an address")
	}
	uid := f.UID
	if uid == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("make a UID: %w", err)
		}
		uid = "urn:uuid:" + hex.EncodeToString(b[:])
	}
	name := strings.TrimSpace(f.FullName)
	if name == "" {
		name = f.Emails[0]
	}
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, "4.0")
	c.SetValue(vcard.FieldUID, uid)
	c.SetValue(vcard.FieldFormattedName, name)
	c.SetName(&vcard.Name{FamilyName: f.FamilyName, GivenName: f.GivenName})
	for _, e := range f.Emails {
		c.Add(vcard.FieldEmail, &vcard.Field{Value: e})
	}
	for _, p := range f.Phones {
		c.Add(vcard.FieldTelephone, &vcard.Field{Value: p})
	}
	if f.Org != "" {
		c.SetValue(vcard.FieldOrganization, f.Org)
	}
	if f.Title != "" {
		c.SetValue(vcard.FieldTitle, f.Title)
	}
	if f.Note != "" {
		c.SetValue(vcard.FieldNote, f.Note)
	}
	return c, nil
}

// ContactCount is how many contacts a domain's books hold.
type ContactCount struct {
	GAB      int64 // in its global address book
	Personal int64 // in its users' own books
}

// ContactCounts counts the contacts of the given domains, for the system
// administrator's domain list.
func (s *Service) ContactCounts(ctx context.Context, sc Scope, domainIDs []int64) (map[int64]ContactCount, error) {
	if !sc.AllDomains() {
		return nil, ErrForbidden
	}
	out := map[int64]ContactCount{}
	if len(domainIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		DomainID int64
		GAB      bool
		N        int64
	}
	err := s.db.Read(ctx).Table("address_books").
		Select("address_books.domain_id, address_books.owner_mailbox_id IS NULL AS gab, COUNT(contacts.id) AS n").
		Joins("JOIN contacts ON contacts.book_id = address_books.id").
		Where("address_books.domain_id IN ?", domainIDs).
		Group("address_books.domain_id, address_books.owner_mailbox_id IS NULL").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count contacts: %w", err)
	}
	for _, r := range rows {
		c := out[r.DomainID]
		if r.GAB {
			c.GAB += r.N
		} else {
			c.Personal += r.N
		}
		out[r.DomainID] = c
	}
	return out, nil
}
