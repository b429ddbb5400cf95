package address

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Localpart is the part of an address before the domain, as the server
// compares it: lower-cased (Unicode simple case mapping, for SMTPUTF8
// addresses too), NFC-normalised, and without the quotes and backslashes of a
// quoted-string. RFC 5321 2.4 lets each host decide how it compares its own
// local parts; we ignore case, as users expect. Make one with ParseLocalpart.
type Localpart string

// ParseLocalpart parses a local part as it may be received: a dot-atom
// (RFC 5322 3.2.3 atext, extended with UTF-8 by RFC 6531 3.3) or a
// quoted-string (RFC 5321 4.1.2). It refuses an empty local part, control
// characters (NUL, CR, LF included) and more than 64 octets
// (ErrLocalpartTooLong), counted both as received and in canonical form.
//
// Whether a name may be created is the stricter ValidMailboxName.
func ParseLocalpart(s string) (Localpart, error) {
	lp, err := parseLocalpart(s)
	if err != nil {
		return "", fmt.Errorf("local part %s: %w", quoteInput(s), err)
	}
	return lp, nil
}

func parseLocalpart(s string) (Localpart, error) {
	switch {
	case s == "":
		return "", errorf(ErrSyntax, "empty")
	case len(s) > maxLocalpart:
		return "", errorf(ErrLocalpartTooLong, "%d octets, more than %d", len(s), maxLocalpart)
	case !utf8.ValidString(s):
		return "", errorf(ErrSyntax, "not valid UTF-8")
	}

	text := s
	if s[0] == '"' {
		var err error
		if text, err = unquote(s); err != nil {
			return "", err
		}
	} else if err := checkDotAtom(s); err != nil {
		return "", err
	}

	lp := Localpart(normalize(text))
	if n := len(lp.wire()); n > maxLocalpart {
		return "", errorf(ErrLocalpartTooLong, "%d octets once normalised, more than %d", n, maxLocalpart)
	}
	return lp, nil
}

// normalize lower-cases and NFC-normalises. NFC comes first so that
// canonically equivalent inputs map alike ("İ" and "I\u0307" both become
// "i"), and again last because lower-casing can leave a string unnormalised.
func normalize(s string) string {
	return norm.NFC.String(strings.ToLower(norm.NFC.String(s)))
}

// checkDotAtom checks RFC 5322 3.2.3 dot-atom-text: 1*atext *("." 1*atext).
func checkDotAtom(s string) error {
	if s[0] == '.' || s[len(s)-1] == '.' {
		return errorf(ErrSyntax, "begins or ends with a dot (quote it to allow that)")
	}
	if strings.Contains(s, "..") {
		return errorf(ErrSyntax, "two dots in a row (quote it to allow that)")
	}
	for _, r := range s {
		switch {
		case r == '.' || isAtext(r):
		case unicode.IsControl(r):
			return errorf(ErrSyntax, "control character %U", r)
		default:
			return errorf(ErrSyntax, "character %q is only allowed in a quoted local part", r)
		}
	}
	return nil
}

// isAtext reports whether r is RFC 5322 3.2.3 atext, or UTF8-non-ascii
// (RFC 6531 3.3) other than a C1 control: RFC 5321 allows no control
// characters in a local part, and UTF-8 ones would only confuse logs.
func isAtext(r rune) bool {
	switch {
	case r >= utf8.RuneSelf:
		return !unicode.IsControl(r)
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// unquote returns the content of an RFC 5321 4.1.2 quoted-string that makes
// up all of s: qtextSMTP is printable ASCII but \ and ", plus UTF-8 (RFC 6531
// 3.3); quoted-pairSMTP is \ and one printable ASCII character.
func unquote(s string) (string, error) {
	var b strings.Builder
	for i := 1; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			if i+1 != len(s) {
				return "", errorf(ErrSyntax, "unexpected %s after the closing quote", quoteInput(s[i+1:]))
			}
			if b.Len() == 0 {
				return "", errorf(ErrSyntax, "empty quoted string")
			}
			return b.String(), nil
		case r == '\\':
			if i+1 >= len(s) || s[i+1] < ' ' || s[i+1] > '~' {
				return "", errorf(ErrSyntax, "a backslash must be followed by a printable ASCII character")
			}
			b.WriteByte(s[i+1])
			i += 2
			continue
		case unicode.IsControl(r):
			return "", errorf(ErrSyntax, "control character %U", r)
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return "", errorf(ErrSyntax, "unterminated quoted string")
}

// quotedEnd returns the index just after the quoted-string that starts s,
// or -1 if it does not end.
func quotedEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// isDotAtom reports whether s can go on the wire unquoted.
func isDotAtom(s string) bool {
	return s != "" && checkDotAtom(s) == nil
}

// wire returns the local part as it goes in an address: as is if it is a
// dot-atom, else as a quoted-string with \ and " escaped.
func (lp Localpart) wire() string {
	s := string(lp)
	if isDotAtom(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// ValidMailboxName checks the stricter rule for a local part an administrator
// may create, as a mailbox or an alias: 1 to 64 octets of letters (any
// script, with combining marks), digits, and . _ - +; no dot at either end
// and no two in a row. Everything else is refused, @ % / ! " and space among
// them, so that the login forms user@domain, user/domain and user%domain
// stay unambiguous and every address we host needs no quoting. The error
// says what is wrong, for a form field message.
func ValidMailboxName(lp Localpart) error {
	if err := validMailboxName(string(lp)); err != nil {
		return fmt.Errorf("mailbox name %s: %w", quoteInput(string(lp)), err)
	}
	return nil
}

func validMailboxName(s string) error {
	switch {
	case s == "":
		return errorf(ErrSyntax, "empty")
	case len(s) > maxLocalpart:
		return errorf(ErrLocalpartTooLong, "%d octets, at most %d are allowed", len(s), maxLocalpart)
	case !utf8.ValidString(s):
		return errorf(ErrSyntax, "not valid UTF-8")
	case s[0] == '.' || s[len(s)-1] == '.':
		return errorf(ErrSyntax, "must not begin or end with a dot")
	case strings.Contains(s, ".."):
		return errorf(ErrSyntax, "must not contain two dots in a row")
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune("._-+", r):
		case unicode.IsMark(r) && i > 0:
		case r == ' ':
			return errorf(ErrSyntax, "spaces are not allowed; use letters, digits and . _ - +")
		case unicode.IsMark(r):
			return errorf(ErrSyntax, "must not begin with a combining mark (%U)", r)
		case unicode.IsControl(r) || !unicode.IsPrint(r):
			return errorf(ErrSyntax, "character %U is not allowed; use letters, digits and . _ - +", r)
		case r >= utf8.RuneSelf:
			return errorf(ErrSyntax, "character %q (%U) is not allowed; use letters, digits and . _ - +", r, r)
		default:
			return errorf(ErrSyntax, "character %q is not allowed; use letters, digits and . _ - +", r)
		}
	}
	if normalize(s) != s {
		// Only a Localpart made by conversion, not by ParseLocalpart, gets here.
		return errorf(ErrSyntax, "not in canonical form (lower case, NFC); parse it with ParseLocalpart first")
	}
	return nil
}
