// Package address parses the address forms Postdesk meets into typed values:
// domain names (IDNA, RFC 5890), local parts (RFC 5322 3.4.1, RFC 6531),
// addresses, login names and SMTP envelope paths (RFC 5321 4.1.2).
//
// Input is parsed once, at the edge (a form, the CLI, a protocol command);
// the rest of the code passes Domain, Localpart, Address and Path, never raw
// strings. Values are canonical, so that comparing two of them is asking
// whether the server treats them as the same mailbox: a Domain is its
// lower-case A-label form without a trailing dot, a Localpart is lower-cased,
// NFC-normalised and unquoted. Each String method returns a form that its
// parser accepts and maps back to the same value.
//
// Every error wraps one of the sentinel errors below, so that callers pick a
// reply with errors.Is (SMTP 501 or 553, a form field message), and its text
// names the input and what is wrong with it.
package address

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors; every error of this package wraps exactly one of them.
var (
	// ErrSyntax is any malformed input not covered by the errors below.
	ErrSyntax = errors.New("invalid syntax")
	// ErrDomain is a domain name that is empty, malformed or not valid IDNA.
	ErrDomain = errors.New("invalid domain name")
	// ErrUnqualified is a domain without a dot (root@vm), which is valid
	// SMTP syntax but no mail domain; it wraps ErrDomain, so that an SMTP
	// server can refuse it for what it is (Postfix: "need fully-qualified
	// address") while other callers see a bad domain.
	ErrUnqualified = fmt.Errorf("%w: not fully qualified", ErrDomain)
	// ErrNoDomain is an address or login without any domain separator, so
	// that a login caller may try the name as a system administrator.
	ErrNoDomain = errors.New("no domain")
	// ErrLocalpartTooLong is a local part over 64 octets (RFC 5321 4.5.3.1.1).
	ErrLocalpartTooLong = errors.New("local part too long")
	// ErrPathTooLong is a path over 256 octets (RFC 5321 4.5.3.1.3).
	ErrPathTooLong = errors.New("path too long")
)

// Size limits of RFC 5321 4.5.3.1, in octets.
const (
	maxLocalpart = 64
	maxDomain    = 253 // 255 on the wire, minus the length octets of the first and root labels
	maxLabel     = 63
	maxPath      = 256 // includes the angle brackets, which our inputs do not
)

// Address is a mailbox address: local@domain. The domain is always a domain
// name; address literals only occur in SMTP paths (see Path).
type Address struct {
	Local  Localpart
	Domain Domain
}

// ParseAddress parses an address as typed in a form or on the command line:
// local@domain, surrounding spaces ignored. It splits at the last @ (a domain
// never holds one) unless the local part is a quoted string, which may. Display
// names and angle brackets are refused: a form asks for an address, not a
// message header (RFC 5322 3.4). An input without @ gives ErrNoDomain.
func ParseAddress(s string) (Address, error) {
	a, err := parseAddress(strings.TrimSpace(s))
	if err != nil {
		return Address{}, fmt.Errorf("address %s: %w", quoteInput(s), err)
	}
	return a, nil
}

func parseAddress(s string) (Address, error) {
	if s == "" {
		return Address{}, errorf(ErrSyntax, "empty")
	}
	if strings.ContainsAny(s, "<>") {
		return Address{}, errorf(ErrSyntax, "angle brackets and display names are not allowed, give only local@domain")
	}
	local, domain, hasAt, err := splitMailbox(s)
	if err != nil {
		return Address{}, err
	}
	if !hasAt {
		return Address{}, errorf(ErrNoDomain, "missing @domain")
	}
	a, err := parseParts(local, domain)
	if err != nil {
		return Address{}, err
	}
	if err := checkPathLength(s, a.String()); err != nil {
		return Address{}, err
	}
	return a, nil
}

// parseParts parses the two halves of local@domain.
func parseParts(local, domain string) (Address, error) {
	if local == "" {
		return Address{}, errorf(ErrSyntax, "missing local part before @")
	}
	if domain == "" {
		return Address{}, errorf(ErrDomain, "missing domain after @")
	}
	lp, err := ParseLocalpart(local)
	if err != nil {
		return Address{}, err
	}
	d, err := ParseDomain(domain)
	if err != nil {
		return Address{}, err
	}
	return Address{Local: lp, Domain: d}, nil
}

// splitMailbox splits s at the @ that starts the domain: the one right after
// a quoted local part (which may itself hold @), else the last one. hasAt is
// false if there is no such @; local is then all of s.
func splitMailbox(s string) (local, domain string, hasAt bool, err error) {
	if strings.HasPrefix(s, `"`) {
		end := quotedEnd(s)
		switch {
		case end < 0:
			return "", "", false, errorf(ErrSyntax, "unterminated quoted string")
		case end == len(s):
			return s, "", false, nil
		case s[end] != '@':
			return "", "", false, errorf(ErrSyntax, "unexpected %s after the quoted local part", quoteInput(s[end:]))
		}
		return s[:end], s[end+1:], true, nil
	}
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return s, "", false, nil
	}
	return s[:i], s[i+1:], true, nil
}

// checkPathLength applies the path limit to both the form received and the
// canonical form: the first is the RFC's rule, the second keeps every parsed
// value printable and re-parsable (an A-label can be longer than its U-label).
func checkPathLength(raw, canonical string) error {
	if n := max(len(raw), len(canonical)) + 2; n > maxPath {
		return errorf(ErrPathTooLong, "%d octets with angle brackets, more than %d", n, maxPath)
	}
	return nil
}

// String returns local@domain, the local part quoted if it is not a dot-atom,
// the domain in ASCII form; "" for the zero Address.
func (a Address) String() string {
	if a.IsZero() {
		return ""
	}
	return a.Local.wire() + "@" + string(a.Domain)
}

// Unicode returns the address for display: like String, but with the domain
// in Unicode (U-label) form.
func (a Address) Unicode() string {
	if a.IsZero() {
		return ""
	}
	return a.Local.wire() + "@" + a.Domain.Unicode()
}

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool {
	return a == Address{}
}

// parseError is an error of one of the sentinel kinds, with a message for
// humans. Wrapping layers add the input (`address "x": domain "y": ...`).
type parseError struct {
	kind error
	msg  string
}

func (e *parseError) Error() string { return e.msg }
func (e *parseError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &parseError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// quoteInput quotes an input for an error message, shortened so that a
// hostile megabyte does not end up in a log line.
func quoteInput(s string) string {
	const limit = 100
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
