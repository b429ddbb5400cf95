package address

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Domain is a domain name in its ASCII (A-label) form, lower-case, without
// a trailing dot: the form DNS and a non-SMTPUTF8 peer need, and one spelling
// per domain so that lookups and comparisons are plain string equality.
// Make one with ParseDomain.
type Domain string

// ParseDomain parses a domain name given in Unicode or ASCII (punycode)
// form, in any case, with at most one trailing dot. Internationalised names
// go through UTS #46 processing with the IDNA2008 rules (RFC 5890, 5891) of
// idna.Lookup, non-transitional, so "faß.de" stays distinct from "fass.de".
//
// Refused: labels other than letters, digits and hyphens (so no underscores:
// those name DNS records, not mail domains), empty labels, labels over 63
// octets, names over 253 octets, address literals such as [192.0.2.1], an
// all-numeric top-level label (an IP address), and names without a dot:
// hosted mail domains always have one, and "localhost" is not one to host.
func ParseDomain(s string) (Domain, error) {
	d, err := parseDomain(s)
	if err != nil {
		return "", fmt.Errorf("domain %s: %w", quoteInput(s), err)
	}
	return d, nil
}

func parseDomain(s string) (Domain, error) {
	switch {
	case s == "":
		return "", errorf(ErrDomain, "empty")
	case len(s) > 4*maxDomain:
		// Even in UTF-8 no valid name comes near this; stop before IDNA does work.
		return "", errorf(ErrDomain, "%d octets, far more than %d", len(s), maxDomain)
	case !utf8.ValidString(s):
		return "", errorf(ErrDomain, "not valid UTF-8")
	case s[0] == '[':
		return "", errorf(ErrDomain, "an address literal is not a domain name")
	}
	t := strings.TrimSuffix(s, ".")

	// Plain ASCII mistakes get a specific message before IDNA gives its generic one.
	ascii := true
	for _, r := range t {
		switch {
		case r >= utf8.RuneSelf:
			ascii = false
		case !isLDH(byte(r)) && r != '.':
			return "", errorf(ErrDomain, "character %q is not allowed in a domain name", r)
		}
	}
	if ascii {
		if err := checkLabels(strings.ToLower(t)); err != nil {
			return "", err
		}
	}

	a, err := idna.Lookup.ToASCII(t)
	if err != nil {
		return "", errorf(ErrDomain, "not a valid internationalised domain name (%v)", err)
	}
	a = strings.ToLower(a)
	if err := checkLabels(a); err != nil {
		return "", err
	}
	return Domain(a), nil
}

// checkLabels checks the RFC 5321 4.1.2 / RFC 1035 shape of an ASCII,
// lower-case name, plus our own rules (a dot, a non-numeric top label).
func checkLabels(a string) error {
	if len(a) > maxDomain {
		return errorf(ErrDomain, "%d octets in ASCII form, more than %d", len(a), maxDomain)
	}
	labels := strings.Split(a, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return errorf(ErrDomain, "empty label (leading, trailing or double dot)")
		case len(l) > maxLabel:
			return errorf(ErrDomain, "label %s is %d octets, more than %d", quoteInput(l), len(l), maxLabel)
		case l[0] == '-' || l[len(l)-1] == '-':
			return errorf(ErrDomain, "label %q begins or ends with a hyphen", l)
		}
		for i := 0; i < len(l); i++ {
			if !isLDH(l[i]) {
				return errorf(ErrDomain, "character %q is not allowed in a domain name", l[i])
			}
		}
	}
	if len(labels) < 2 {
		return errorf(ErrUnqualified, "a mail domain needs at least one dot")
	}
	if top := labels[len(labels)-1]; strings.Trim(top, "0123456789") == "" {
		return errorf(ErrDomain, "top-level label %q is all digits: an IP address is not a domain name", top)
	}
	return nil
}

// isLDH reports whether c may appear in an ASCII label (RFC 5321 Ldh-str).
func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// String returns the ASCII (A-label) form.
func (d Domain) String() string {
	return string(d)
}

// Unicode returns the U-label form, for display only; the ASCII form if the
// name does not convert.
func (d Domain) Unicode() string {
	u, err := idna.Display.ToUnicode(string(d))
	if err != nil {
		return string(d)
	}
	return u
}
