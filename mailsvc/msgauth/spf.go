package msgauth

// SPF (RFC 7208) is evaluated here, by hand, not by a library. The house
// rule prefers a kept library, and the one named for it,
// blitiri.com.ar/go/spf, is not among the kept module versions
// (/work/.library/env/packages/go-partial.tsv lists none), so it would be
// a new dependency outside that set; go-msgauth, which is kept, does DKIM
// and DMARC but no SPF. Written here, every lookup goes through the one
// resolver (mailsvc/dnsres, --dns-server, its time limit) and the limits
// of RFC 7208 4.6.4 (10 lookup terms, 2 void lookups, 10 names per MX or
// PTR) are counted over the whole evaluation, includes and redirects
// too; TestSPF and its lookup bound in msgauth_test.go hold it to that.
// Should blitiri.com.ar/go/spf be kept, it fits: its WithResolver takes
// LookupTXT, LookupMX, LookupIPAddr and LookupAddr, which dnsres could
// give, and its limits are those of the RFC.

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
)

// SPF results (RFC 7208 2.6).
const (
	None      = "none"
	Neutral   = "neutral"
	Pass      = "pass"
	Fail      = "fail"
	SoftFail  = "softfail"
	TempError = "temperror"
	PermError = "permerror"
)

// RFC 7208 4.6.4: at most 10 terms that cause DNS lookups, each MX or PTR
// lookup at most 10 names, and at most 2 lookups that find nothing.
const (
	spfMaxLookups     = 10
	spfMaxVoidLookups = 2
	spfMaxMXNames     = 10
)

// spfCheck is one check_host evaluation (RFC 7208 4) with its shared
// lookup counts.
type spfCheck struct {
	res    *dnsres.Resolver
	ip     netip.Addr
	sender string // local@domain of MAIL FROM, or postmaster@HELO
	helo   string
	// lookups counts the terms that cause DNS queries, over the whole
	// evaluation including includes and redirects; void the lookups that
	// found nothing.
	lookups, void int
}

var errSPFPerm = errors.New("spf permerror")
var errSPFTemp = errors.New("spf temperror")

// CheckSPF evaluates the SPF policy of domain for a client at ip giving
// sender (local@domain; for the null sender "postmaster@" + the HELO name)
// and helo, and returns the result (RFC 7208 2.6).
func CheckSPF(ctx context.Context, res *dnsres.Resolver, ip netip.Addr, domain, sender, helo string) string {
	c := &spfCheck{res: res, ip: ip.Unmap(), sender: sender, helo: helo}
	return c.checkHost(ctx, strings.ToLower(strings.TrimSuffix(domain, ".")), 0)
}

func (c *spfCheck) checkHost(ctx context.Context, domain string, depth int) string {
	if _, ok := dns.IsDomainName(domain); !ok || !strings.Contains(domain, ".") || depth > spfMaxLookups {
		return None
	}
	txts, err := c.res.LookupTXT(ctx, domain)
	switch {
	case dnsres.IsNotFound(err):
		return None
	case err != nil:
		return TempError
	}
	var rec string
	n := 0
	for _, t := range txts {
		l := strings.ToLower(t)
		if l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
			rec = t
			n++
		}
	}
	switch {
	case n == 0:
		return None
	case n > 1:
		return PermError // RFC 7208 4.5
	}
	result, err := c.evaluate(ctx, domain, rec, depth)
	switch {
	case errors.Is(err, errSPFTemp):
		return TempError
	case err != nil:
		return PermError
	}
	return result
}

// evaluate runs the record's directives in order, then its redirect.
func (c *spfCheck) evaluate(ctx context.Context, domain, rec string, depth int) (string, error) {
	terms := strings.Fields(rec)[1:]
	var redirect string
	// Modifiers are read first: a syntax error anywhere is a permerror
	// before any mechanism runs (RFC 7208 4.6).
	for _, t := range terms {
		name, val, isMod := strings.Cut(t, "=")
		if !isMod || strings.ContainsAny(name, ":/") {
			continue
		}
		switch strings.ToLower(name) {
		case "redirect":
			if redirect != "" {
				return "", errSPFPerm
			}
			redirect = val
		case "exp":
		default:
			if !isSPFName(name) {
				return "", errSPFPerm
			}
		}
	}
	for _, t := range terms {
		if name, _, isMod := strings.Cut(t, "="); isMod && !strings.ContainsAny(name, ":/") {
			continue
		}
		qual := Pass
		switch t[0] {
		case '+':
			t = t[1:]
		case '-':
			qual, t = Fail, t[1:]
		case '~':
			qual, t = SoftFail, t[1:]
		case '?':
			qual, t = Neutral, t[1:]
		}
		match, err := c.mechanism(ctx, domain, t, depth)
		if err != nil {
			return "", err
		}
		if match {
			return qual, nil
		}
	}
	if redirect == "" {
		return Neutral, nil
	}
	if err := c.count(); err != nil {
		return "", err
	}
	target, err := c.expand(redirect, domain)
	if err != nil {
		return "", err
	}
	switch r := c.checkHost(ctx, target, depth+1); r {
	case None:
		return "", errSPFPerm // RFC 7208 6.1
	case TempError:
		return "", errSPFTemp
	case PermError:
		return "", errSPFPerm
	default:
		return r, nil
	}
}

func isSPFName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// count counts a term that causes DNS lookups.
func (c *spfCheck) count() error {
	c.lookups++
	if c.lookups > spfMaxLookups {
		return errSPFPerm
	}
	return nil
}

// voidOr turns a lookup error into the evaluation's: a void lookup
// counts (and past the limit is a permerror), others are temperrors.
func (c *spfCheck) voidOr(err error) error {
	if dnsres.IsNotFound(err) {
		c.void++
		if c.void > spfMaxVoidLookups {
			return errSPFPerm
		}
		return nil
	}
	return errSPFTemp
}

func (c *spfCheck) mechanism(ctx context.Context, domain, t string, depth int) (bool, error) {
	name, arg, hasArg := strings.Cut(t, ":")
	cidr := ""
	if !hasArg {
		// "a/24", "mx//64": the CIDR lengths follow the name directly.
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name, cidr = name[:i], name[i:]
		}
	}
	switch strings.ToLower(name) {
	case "all":
		if hasArg || cidr != "" {
			return false, errSPFPerm
		}
		return true, nil
	case "ip4", "ip6":
		if !hasArg {
			return false, errSPFPerm
		}
		p, err := parsePrefix(arg, strings.ToLower(name) == "ip4")
		if err != nil {
			return false, errSPFPerm
		}
		return p.Contains(c.ip), nil
	case "include":
		if !hasArg {
			return false, errSPFPerm
		}
		if err := c.count(); err != nil {
			return false, err
		}
		target, err := c.expand(arg, domain)
		if err != nil {
			return false, err
		}
		switch c.checkHost(ctx, target, depth+1) {
		case Pass:
			return true, nil
		case TempError:
			return false, errSPFTemp
		case PermError, None:
			return false, errSPFPerm // RFC 7208 5.2
		}
		return false, nil
	case "a", "mx":
		if err := c.count(); err != nil {
			return false, err
		}
		target := domain
		if hasArg {
			if i := strings.IndexByte(arg, '/'); i >= 0 {
				arg, cidr = arg[:i], arg[i:]
			}
			var err error
			if target, err = c.expand(arg, domain); err != nil {
				return false, err
			}
		}
		v4, v6, err := cidrLengths(cidr)
		if err != nil {
			return false, err
		}
		hosts := []string{target}
		if strings.ToLower(name) == "mx" {
			mxs, err := c.res.LookupMX(ctx, target)
			if err != nil {
				return false, c.voidOr(err)
			}
			if len(mxs) > spfMaxMXNames {
				return false, errSPFPerm // RFC 7208 4.6.4
			}
			hosts = mxs
		}
		for _, h := range hosts {
			if ok, err := c.hostMatches(ctx, h, v4, v6); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case "exists":
		if !hasArg {
			return false, errSPFPerm
		}
		if err := c.count(); err != nil {
			return false, err
		}
		target, err := c.expand(arg, domain)
		if err != nil {
			return false, err
		}
		ips, err := c.res.LookupIP(ctx, target, dns.TypeA)
		if err != nil {
			return false, c.voidOr(err)
		}
		return len(ips) > 0, nil
	case "ptr":
		// RFC 7208 5.5: "SHOULD NOT be published", slow and unreliable;
		// counted as a lookup, and never a match, as several receivers
		// treat it.
		if err := c.count(); err != nil {
			return false, err
		}
		return false, nil
	}
	return false, errSPFPerm
}

// hostMatches looks up a host's addresses of the client's family and
// compares them within the CIDR length.
func (c *spfCheck) hostMatches(ctx context.Context, host string, v4, v6 int) (bool, error) {
	qt, bits := uint16(dns.TypeA), v4
	if c.ip.Is6() {
		qt, bits = dns.TypeAAAA, v6
	}
	ips, err := c.res.LookupIP(ctx, host, qt)
	if err != nil {
		return false, c.voidOr(err)
	}
	for _, ip := range ips {
		if p, err := ip.Prefix(bits); err == nil && p.Contains(c.ip) {
			return true, nil
		}
	}
	return false, nil
}

func parsePrefix(s string, v4 bool) (netip.Prefix, error) {
	addr, bits, hasBits := strings.Cut(s, "/")
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() != v4 {
		return netip.Prefix{}, errSPFPerm
	}
	n := ip.BitLen()
	if hasBits {
		if n, err = strconv.Atoi(bits); err != nil || n < 0 || n > ip.BitLen() || strings.HasPrefix(bits, "0") && bits != "0" {
			return netip.Prefix{}, errSPFPerm
		}
	}
	return ip.Prefix(n)
}

// cidrLengths parses "/24", "//64" or "/24//64" (RFC 7208 5.6).
func cidrLengths(s string) (int, int, error) {
	v4, v6 := 32, 128
	if s == "" {
		return v4, v6, nil
	}
	a, b, dual := strings.Cut(s, "//")
	if a != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(a, "/"))
		if err != nil || !strings.HasPrefix(a, "/") || n < 0 || n > 32 {
			return 0, 0, errSPFPerm
		}
		v4 = n
	}
	if dual {
		n, err := strconv.Atoi(b)
		if err != nil || n < 0 || n > 128 {
			return 0, 0, errSPFPerm
		}
		v6 = n
	}
	return v4, v6, nil
}

// expand expands the macros of a domain-spec (RFC 7208 7). "p" expands
// to "unknown": Postdesk does no PTR lookups for SPF (see ptr above).
func (c *spfCheck) expand(spec, domain string) (string, error) {
	if !strings.Contains(spec, "%") {
		return strings.ToLower(strings.TrimSuffix(spec, ".")), nil
	}
	var b strings.Builder
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' {
			b.WriteByte(spec[i])
			continue
		}
		if i+1 >= len(spec) {
			return "", errSPFPerm
		}
		i++
		switch spec[i] {
		case '%':
			b.WriteByte('%')
			continue
		case '_':
			b.WriteByte(' ')
			continue
		case '-':
			b.WriteString("%20")
			continue
		case '{':
		default:
			return "", errSPFPerm
		}
		end := strings.IndexByte(spec[i:], '}')
		if end < 2 {
			return "", errSPFPerm
		}
		m := spec[i+1 : i+end]
		i += end
		v, err := c.macro(m, domain)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	out := strings.ToLower(strings.TrimSuffix(b.String(), "."))
	// RFC 7208 7.3: a result over 253 octets loses labels on the left.
	for len(out) > 253 {
		_, rest, ok := strings.Cut(out, ".")
		if !ok {
			return "", errSPFPerm
		}
		out = rest
	}
	return out, nil
}

// macro expands one "%{...}" body: letter, digits, "r", delimiters.
func (c *spfCheck) macro(m, domain string) (string, error) {
	letter := m[0] | 0x20
	rest := m[1:]
	local, sdom, _ := strings.Cut(c.sender, "@")
	var v string
	switch letter {
	case 's':
		v = c.sender
	case 'l':
		v = local
	case 'o':
		v = sdom
	case 'd':
		v = domain
	case 'i':
		if c.ip.Is4() {
			v = c.ip.String()
		} else {
			x := c.ip.As16()
			parts := make([]string, 0, 32)
			for _, by := range x {
				parts = append(parts, strconv.FormatUint(uint64(by>>4), 16), strconv.FormatUint(uint64(by&15), 16))
			}
			v = strings.Join(parts, ".")
		}
	case 'p':
		v = "unknown"
	case 'v':
		v = "in-addr"
		if c.ip.Is6() {
			v = "ip6"
		}
	case 'h':
		v = c.helo
	default:
		return "", errSPFPerm
	}
	digits := 0
	for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
		digits = digits*10 + int(rest[0]-'0')
		rest = rest[1:]
		if digits > 128 {
			return "", errSPFPerm
		}
	}
	reverse := false
	if len(rest) > 0 && (rest[0] == 'r' || rest[0] == 'R') {
		reverse, rest = true, rest[1:]
	}
	delims := "."
	if rest != "" {
		if strings.Trim(rest, ".-+,/_=") != "" {
			return "", errSPFPerm
		}
		delims = rest
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if digits > 0 && digits < len(parts) {
		parts = parts[len(parts)-digits:]
	}
	return strings.Join(parts, "."), nil
}
