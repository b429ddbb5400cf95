package queue

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/mtasts"
)

// stsPolicy finds the MTA-STS policy (RFC 8461) of a domain whose mail
// goes to its MX hosts: nil when it has none or its mode is none. A
// policy the domain announces but that can't be had is logged and mail
// goes as without one (RFC 8461 5.1); err is a local error.
func (q *Queue) stsPolicy(ctx context.Context, res *resolver, domain string) (*mtasts.Policy, error) {
	f := &mtasts.Finder{DB: q.db, Now: q.now, Fetcher: &mtasts.Fetcher{
		Resolver: &dnsres.Resolver{Server: res.server, Timeout: res.timeout, ResolvConf: res.resolvConf},
		RootCAs:  q.opts.RootCAs, Port: q.opts.MTASTSPort,
	}}
	p, problem, err := f.Find(ctx, domain)
	if err != nil {
		return nil, err
	}
	if problem != nil {
		q.log.WarnContext(ctx, "queue: MTA-STS policy not found", "domain", domain, "err", problem)
	}
	if p == nil || p.Mode == mtasts.ModeNone {
		return nil, nil
	}
	return p, nil
}

// stsCheck is how a certificate fared against an MTA-STS policy.
type stsCheck struct {
	err error
}

// stsVerify checks the certificate chain against the trusted roots and
// the MX host's name (RFC 8461 4.2): an enforced policy ends the handshake
// when it fails; in testing mode the handshake goes on and sts keeps the
// failure for the report.
func (q *Queue) stsVerify(d *dest, name string, sts *stsCheck) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			sts.err = errors.New("no certificate")
		} else {
			opts := x509.VerifyOptions{DNSName: name, Roots: q.opts.RootCAs, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, sts.err = cs.PeerCertificates[0].Verify(opts)
		}
		if d.enforced() {
			return sts.err
		}
		return nil
	}
}

// stsTesting reports a failure to meet a policy in testing mode (RFC 8461
// 5: mail goes as without one).
func (q *Queue) stsTesting(ctx context.Context, d *dest, where, what string, err error) {
	args := []any{"domain", d.domain, "remote_host", where, "failure", what}
	if err != nil {
		args = append(args, "err", err)
	}
	q.log.WarnContext(ctx, "queue: MTA-STS policy (testing) not met", args...)
}
