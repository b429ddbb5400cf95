package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
)

// MaxPolicySize is the most of a policy file read (RFC 8461 3.3 suggests
// 64 KiB); a larger one is refused.
const MaxPolicySize = 64 << 10

// Fetcher gets policies over HTTPS.
type Fetcher struct {
	// Resolver finds mta-sts.DOMAIN's address (and the TXT record).
	Resolver *dnsres.Resolver
	// RootCAs verifies the policy host's certificate; nil: the system's
	// roots. Tests give their own CA.
	RootCAs *x509.CertPool
	// Port is the HTTPS port (443); tests point it at their server.
	Port int
	// Timeout bounds one fetch, connection to last byte (RFC 8461 3.3
	// suggests at least a minute; 30 seconds here, since a sending
	// worker waits for it; a failed fetch is tried again at the next
	// attempt).
	Timeout time.Duration
}

// Fetch gets domain's policy from https://mta-sts.DOMAIN/.well-known/mta-sts.txt
// (RFC 8461 3.3): a verified certificate for that name, no redirects, 200
// with text/plain, at most MaxPolicySize octets.
func (f *Fetcher) Fetch(ctx context.Context, domain string) (*Policy, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	port := f.Port
	if port == 0 {
		port = 443
	}
	host := "mta-sts." + domain
	tr := &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: f.RootCAs, MinVersion: tls.VersionTLS12},
		DisableKeepAlives:   true,
		TLSHandshakeTimeout: timeout,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ips, err := f.addresses(ctx, host)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			var last error
			for _, ip := range ips {
				c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(ip, uint16(port)).String())
				if err == nil {
					return c, nil
				}
				last = err
			}
			return nil, last
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// Redirects are not followed (RFC 8461 3.3).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	u := "https://" + host
	if port != 443 {
		u += ":" + strconv.Itoa(port)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/.well-known/mta-sts.txt", nil)
	if err != nil {
		return nil, fmt.Errorf("fetch MTA-STS policy of %s: %w", domain, err)
	}
	// The Host header and the certificate's name are mta-sts.DOMAIN,
	// never with the test port.
	req.Host = host
	tr.TLSClientConfig.ServerName = host
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch MTA-STS policy of %s: %w", domain, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch MTA-STS policy of %s: HTTP status %d", domain, resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return nil, fmt.Errorf("fetch MTA-STS policy of %s: content type %q is not text/plain", domain, resp.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicySize+1))
	if err == nil && ctx.Err() != nil {
		// Cut short: what was read is not the whole policy.
		err = ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("fetch MTA-STS policy of %s: %w", domain, err)
	}
	if len(b) > MaxPolicySize {
		return nil, fmt.Errorf("fetch MTA-STS policy of %s: larger than %d octets", domain, MaxPolicySize)
	}
	p, err := ParsePolicy(string(b))
	if err != nil {
		return nil, fmt.Errorf("MTA-STS policy of %s: %w", domain, err)
	}
	return p, nil
}

// addresses finds host's addresses through the resolver: IPv4, then IPv6.
func (f *Fetcher) addresses(ctx context.Context, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	var last error
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		ips, err := f.Resolver.LookupIP(ctx, host, qt)
		if err != nil {
			last = err
			continue
		}
		out = append(out, ips...)
	}
	if len(out) == 0 {
		if last == nil {
			last = errors.New("no address")
		}
		return nil, fmt.Errorf("look up %s: %w", host, last)
	}
	return out, nil
}
