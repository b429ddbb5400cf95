package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
)

// resolver asks one configured DNS server (or those of /etc/resolv.conf)
// for MX and address records, with github.com/miekg/dns, so that the
// Delivery Options' DNS server is the one asked.
type resolver struct {
	server  string // "IP:port"; empty: /etc/resolv.conf
	timeout time.Duration
	// resolvConf is read when server is empty.
	resolvConf string
}

// dnsError is a failed lookup; permanent when the name does not exist or
// refuses mail (null MX), temporary otherwise. msg is what a DSN and the
// queue page may show; detail (the resolver's address, the network error)
// is for the log only.
type dnsError struct {
	permanent bool
	status    string // enhanced status code for a DSN
	msg       string
	detail    string
}

func (e *dnsError) Error() string {
	if e.detail == "" {
		return e.msg
	}
	return e.msg + ": " + e.detail
}

// tempDNS is a temporary failure to look up name; rcode, when the server
// answered, is the DNS answer's code ("SERVFAIL").
func tempDNS(name, rcode string, detail error) *dnsError {
	e := &dnsError{status: "4.4.3", msg: "DNS lookup failed for " + name}
	if rcode != "" {
		e.msg += " (" + rcode + ")"
	}
	if detail != nil {
		e.detail = detail.Error()
	}
	return e
}

// exchange asks through the one resolver (mailsvc/dnsres), its failures
// turned into the queue's temporary DNS errors.
func (r *resolver) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	res := dnsres.Resolver{Server: r.server, Timeout: r.timeout, ResolvConf: r.resolvConf}
	in, err := res.Exchange(ctx, name, qtype)
	var de *dnsres.Error
	if errors.As(err, &de) {
		return nil, tempDNS(name, de.Rcode, de.Err)
	}
	return in, err
}

// lookupMX returns the hosts to try for a domain in order of preference
// (RFC 5321 5.1), equal preferences shuffled. With no MX record the domain
// itself is the host (implicit is true). A domain that does not exist, or
// publishes a null MX (RFC 7505), is a permanent error.
func (r *resolver) lookupMX(ctx context.Context, domain string) (hosts []string, implicit bool, err error) {
	in, err := r.exchange(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, false, err
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, false, &dnsError{permanent: true, status: "5.1.2", msg: fmt.Sprintf("domain %s does not exist", domain)}
	default:
		return nil, false, tempDNS(domain, dns.RcodeToString[in.Rcode], nil)
	}
	var mxs []*dns.MX
	for _, rr := range in.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, mx)
		}
	}
	if len(mxs) == 0 {
		return []string{domain}, true, nil
	}
	if len(mxs) == 1 && mxs[0].Mx == "." {
		return nil, false, &dnsError{permanent: true, status: "5.1.10", msg: fmt.Sprintf("domain %s accepts no mail (null MX)", domain)}
	}
	rand.Shuffle(len(mxs), func(i, j int) { mxs[i], mxs[j] = mxs[j], mxs[i] })
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Preference < mxs[j].Preference })
	for _, mx := range mxs {
		h := strings.ToLower(strings.TrimSuffix(mx.Mx, "."))
		if h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil, false, &dnsError{permanent: true, status: "5.1.10", msg: fmt.Sprintf("domain %s accepts no mail (null MX)", domain)}
	}
	return hosts, false, nil
}

// lookupIP returns a host's IPv4 then IPv6 addresses. A name that does not
// exist or has no address is reported as permanent; the caller decides
// what that means for the recipient.
func (r *resolver) lookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	var last error
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		in, err := r.exchange(ctx, host, qt)
		if err != nil {
			last = err
			continue
		}
		if in.Rcode == dns.RcodeNameError {
			continue
		}
		for _, rr := range in.Answer {
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
	}
	if len(out) > 0 {
		return out, nil
	}
	if last != nil {
		return nil, last
	}
	return nil, &dnsError{permanent: true, status: "5.4.4", msg: fmt.Sprintf("host %s has no address", host)}
}

// dnsReason is what a DSN and the queue page say of a failed lookup.
func dnsReason(err error) string {
	var de *dnsError
	if errors.As(err, &de) {
		return de.msg
	}
	return "DNS lookup failed"
}

// isDNSPermanent reports whether err is a permanent lookup failure.
func isDNSPermanent(err error) (bool, string) {
	var de *dnsError
	if errors.As(err, &de) {
		return de.permanent, de.status
	}
	return false, "4.4.3"
}
