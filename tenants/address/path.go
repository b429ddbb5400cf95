package address

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Path is an SMTP envelope path (RFC 5321 4.1.2): the argument of MAIL FROM
// or RCPT TO.
type Path struct {
	// Address is the mailbox; zero for the null reverse-path <> and for a bare
	// postmaster.
	Address Address
	// Postmaster is RCPT TO:<postmaster> without a domain (RFC 5321 4.5.1),
	// which every server must accept for itself.
	Postmaster bool
	// DomainLiteral is the canonical address literal, "[192.0.2.1]" or
	// "[IPv6:2001:db8::1]", when the mailbox names a host by IP address
	// (RFC 5321 4.1.3); Address.Domain is then empty.
	DomainLiteral string
}

// ParseForwardPath parses the inside of RCPT TO:<...>, without the angle
// brackets. A bare "postmaster", in any case, gives Path.Postmaster. An
// obsolete source route ("@a,@b:user@example.test") is checked and dropped:
// we route by the final domain only (RFC 5321 4.1.1.3, appendix C). The
// domain follows the last @ outside a quoted local part, which may hold @
// itself (`"a@b"@example.test`); a % hack (user%remote@example.test) and a
// bang path (remote!user@example.test) are plain local parts of the final
// domain. The empty path is an error.
//
// A local part over 64 octets gives ErrLocalpartTooLong, a path over 256
// octets (with the brackets) ErrPathTooLong, both distinct from ErrSyntax
// and ErrDomain so the server can choose its reply.
func ParseForwardPath(s string) (Path, error) {
	p, err := parsePath(s, true)
	if err != nil {
		return Path{}, fmt.Errorf("forward-path %s: %w", quoteInput(s), err)
	}
	return p, nil
}

// ParseReversePath parses the inside of MAIL FROM:<...> like ParseForwardPath,
// except that the empty string is the null reverse-path (the zero Path, no
// error; RFC 5321 4.5.5) and a bare postmaster is refused.
func ParseReversePath(s string) (Path, error) {
	if s == "" {
		return Path{}, nil
	}
	p, err := parsePath(s, false)
	if err != nil {
		return Path{}, fmt.Errorf("reverse-path %s: %w", quoteInput(s), err)
	}
	return p, nil
}

func parsePath(s string, forward bool) (Path, error) {
	switch {
	case s == "":
		return Path{}, errorf(ErrSyntax, "empty")
	case len(s)+2 > maxPath:
		// Before anything else, so that a huge argument costs nothing.
		return Path{}, errorf(ErrPathTooLong, "%d octets with angle brackets, more than %d", len(s)+2, maxPath)
	case !utf8.ValidString(s):
		return Path{}, errorf(ErrSyntax, "not valid UTF-8")
	case strings.EqualFold(s, "postmaster"):
		if !forward {
			return Path{}, errorf(ErrSyntax, "postmaster without a domain is only allowed as a recipient")
		}
		return Path{Postmaster: true}, nil
	}

	mailbox, err := stripSourceRoute(s)
	if err != nil {
		return Path{}, err
	}
	local, domain, hasAt, err := splitMailbox(mailbox)
	if err != nil {
		return Path{}, err
	}
	if !hasAt {
		return Path{}, errorf(ErrSyntax, "missing @domain")
	}

	var p Path
	if strings.HasPrefix(domain, "[") {
		if local == "" {
			return Path{}, errorf(ErrSyntax, "missing local part before @")
		}
		lp, err := ParseLocalpart(local)
		if err != nil {
			return Path{}, err
		}
		lit, err := parseAddressLiteral(domain)
		if err != nil {
			return Path{}, err
		}
		p = Path{Address: Address{Local: lp}, DomainLiteral: lit}
	} else {
		a, err := parseParts(local, domain)
		if err != nil {
			return Path{}, err
		}
		p = Path{Address: a}
	}
	if err := checkPathLength(s, p.String()); err != nil {
		return Path{}, err
	}
	return p, nil
}

// stripSourceRoute removes an RFC 5321 4.1.2 A-d-l ("@a,@b:") from the
// front of a path. Its hops are only checked for shape, not parsed as
// domains: we ignore them, and old routes name all sorts of hosts.
func stripSourceRoute(s string) (string, error) {
	if !strings.HasPrefix(s, "@") {
		return s, nil
	}
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return "", errorf(ErrSyntax, "source route without a colon")
	}
	for _, hop := range strings.Split(s[:i], ",") {
		if len(hop) < 2 || hop[0] != '@' || strings.IndexFunc(hop[1:], badHopRune) >= 0 {
			return "", errorf(ErrSyntax, "invalid source route hop %s", quoteInput(hop))
		}
	}
	if i+1 == len(s) {
		return "", errorf(ErrSyntax, "missing mailbox after the source route")
	}
	return s[i+1:], nil
}

func badHopRune(r rune) bool {
	return strings.ContainsRune(`@,:"\<>[] `, r) || unicode.IsControl(r) || unicode.IsSpace(r)
}

// parseAddressLiteral parses an RFC 5321 4.1.3 address literal into its
// canonical form. Only IPv4 and IPv6 are accepted; a General-address-literal
// names no protocol we could deliver to.
func parseAddressLiteral(s string) (string, error) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return "", errorf(ErrSyntax, "address literal %s does not end with ]", quoteInput(s))
	}
	inner := s[1 : len(s)-1]
	if tag, addr, ok := strings.Cut(inner, ":"); ok && !strings.Contains(tag, ".") {
		if tag == "" {
			return "", errorf(ErrSyntax, "address literal %s: an IPv6 address needs the \"IPv6:\" tag", quoteInput(s))
		}
		if !strings.EqualFold(tag, "IPv6") {
			return "", errorf(ErrSyntax, "address literal %s: only IPv4 and IPv6 literals are supported", quoteInput(s))
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", errorf(ErrSyntax, "address literal %s: invalid IPv6 address", quoteInput(s))
		}
		return "[IPv6:" + ip.String() + "]", nil
	}
	ip, ok := parseIPv4(inner)
	if !ok {
		return "", errorf(ErrSyntax, "address literal %s: invalid IPv4 address", quoteInput(s))
	}
	return "[" + ip.String() + "]", nil
}

// parseIPv4 parses RFC 5321 4.1.3 IPv4-address-literal: four Snum of 1 to 3
// digits, 0 to 255. Unlike netip it allows leading zeros, which the grammar
// does; they are decimal, never octal.
func parseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		if len(p) < 1 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return netip.Addr{}, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}

// String returns the path as its parser accepts it, without angle brackets:
// "" for the null reverse-path, "postmaster", or local@domain with the
// domain in ASCII form or the address literal.
func (p Path) String() string {
	switch {
	case p.Postmaster:
		return "postmaster"
	case p.DomainLiteral != "":
		return p.Address.Local.wire() + "@" + p.DomainLiteral
	}
	return p.Address.String()
}

// IsNull reports whether p is the null reverse-path <>.
func (p Path) IsNull() bool {
	return p == Path{}
}
