// Package dnsres is Postdesk's one DNS resolver (github.com/miekg/dns): it
// asks the configured server (--dns-server), or those of /etc/resolv.conf,
// with a time limit on every query. The outbound queue's MX and address
// lookups and the mail checks' (mailsvc/msgauth: SPF, DKIM, DMARC) all go
// through it, so tests point every lookup at one loopback server.
package dnsres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver asks Server, or the servers of ResolvConf.
type Resolver struct {
	// Server is "IP:port"; empty: the servers of ResolvConf.
	Server string
	// Timeout bounds each query; zero: 10 seconds.
	Timeout time.Duration
	// ResolvConf is read when Server is empty; empty: /etc/resolv.conf.
	ResolvConf string
}

// Error is a failed exchange: no server answered, or each answered
// SERVFAIL or REFUSED (Rcode, when one did). It is always temporary.
type Error struct {
	Name  string
	Rcode string
	Err   error
}

func (e *Error) Error() string {
	msg := "DNS lookup failed for " + e.Name
	if e.Rcode != "" {
		msg += " (" + e.Rcode + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

func (r *Resolver) servers() ([]string, error) {
	if r.Server != "" {
		return []string{r.Server}, nil
	}
	path := r.ResolvConf
	if path == "" {
		path = "/etc/resolv.conf"
	}
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("no DNS server configured and %s unreadable: %w", path, err)
	}
	var out []string
	for _, s := range cfg.Servers {
		out = append(out, net.JoinHostPort(s, cfg.Port))
	}
	if len(out) == 0 {
		return nil, errors.New("no DNS server configured")
	}
	return out, nil
}

// Exchange asks the servers in turn until one answers other than with
// SERVFAIL or REFUSED, retrying over TCP when the answer is truncated.
// NXDOMAIN is an answer (in.Rcode), not an error.
func (r *Resolver) Exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	servers, err := r.servers()
	if err != nil {
		return nil, &Error{Name: name, Err: err}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	q.SetEdns0(1232, false)
	var last error
	rcode := ""
	for _, s := range servers {
		c := &dns.Client{Net: "udp", Timeout: timeout}
		in, _, err := c.ExchangeContext(ctx, q, s)
		if err == nil && in.Truncated {
			c.Net = "tcp"
			in, _, err = c.ExchangeContext(ctx, q, s)
		}
		if err != nil {
			last = err
			continue
		}
		if in.Rcode == dns.RcodeServerFailure || in.Rcode == dns.RcodeRefused {
			rcode = dns.RcodeToString[in.Rcode]
			last = fmt.Errorf("%s answered %s", s, rcode)
			continue
		}
		return in, nil
	}
	return nil, &Error{Name: name, Rcode: rcode, Err: fmt.Errorf("lookup %s %s: %w", dns.TypeToString[qtype], name, last)}
}

// lookup answers a query as the net package reports results, so that
// go-msgauth reads them: a *net.DNSError with IsNotFound for NXDOMAIN or
// no record of the type, IsTemporary for a failed exchange.
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	in, err := r.Exchange(ctx, name, qtype)
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true, IsTimeout: errors.Is(err, context.DeadlineExceeded)}
	}
	if in.Rcode != dns.RcodeSuccess {
		return nil, &net.DNSError{Err: dns.RcodeToString[in.Rcode], Name: name, IsNotFound: in.Rcode == dns.RcodeNameError}
	}
	var out []dns.RR
	for _, rr := range in.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no " + dns.TypeToString[qtype] + " record", Name: name, IsNotFound: true}
	}
	return out, nil
}

// IsNotFound reports whether err says the name has no such record (a void
// lookup, RFC 7208 4.6.4), as opposed to a failed lookup.
func IsNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// LookupTXT returns a name's TXT records, each one's strings joined
// (RFC 7208 3.3, RFC 6376 3.6.2.2).
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, nil
}

// LookupIP returns a name's addresses of one family: qtype dns.TypeA or
// dns.TypeAAAA.
func (r *Resolver) LookupIP(ctx context.Context, name string, qtype uint16) ([]netip.Addr, error) {
	rrs, err := r.lookup(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, rr := range rrs {
		switch a := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
				out = append(out, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(a.AAAA); ok {
				out = append(out, ip)
			}
		}
	}
	return out, nil
}

// LookupMX returns the host names of a name's MX records, lower case,
// without the trailing dot, in the order of the answer.
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range rrs {
		out = append(out, strings.ToLower(strings.TrimSuffix(rr.(*dns.MX).Mx, ".")))
	}
	return out, nil
}

// LookupCNAME returns the target of a name's CNAME record, lower case,
// without the trailing dot.
func (r *Resolver) LookupCNAME(ctx context.Context, name string) (string, error) {
	rrs, err := r.lookup(ctx, name, dns.TypeCNAME)
	if err != nil {
		return "", err
	}
	return strings.ToLower(strings.TrimSuffix(rrs[0].(*dns.CNAME).Target, ".")), nil
}

// ParseServer turns "IP" or "IP:port" (--dns-server, the Delivery Options'
// DNS server) into "IP:port"; "" stays.
func ParseServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return "", errors.New("the port must not be 0")
		}
		return ap.String(), nil
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", errors.New("give the DNS server as an IP address, optionally with :port")
	}
	return netip.AddrPortFrom(ip, 53).String(), nil
}
