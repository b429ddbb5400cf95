package smtpd_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// topAuthResults returns the Authentication-Results fields above the
// first Received of a stored message: the ones Postdesk wrote.
func topAuthResults(m string) []string {
	var out []string
	head, _, _ := strings.Cut(strings.ReplaceAll(m, "\r\n\t", " "), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		name, value, _ := strings.Cut(line, ":")
		if strings.EqualFold(name, "Received") {
			break
		}
		if strings.EqualFold(name, "Authentication-Results") {
			out = append(out, strings.TrimSpace(value))
		}
	}
	return out
}

// TestMXAuthentication drives the MX's SPF, DKIM and DMARC checks over SMTP
// against a loopback DNS server: the stored message carries one
// Authentication-Results of ours on top naming the three results, a forged
// one claiming our host name is gone, p=reject is refused with 550 5.7.1
// and nothing stored, p=quarantine is filed into Junk.
func TestMXAuthentication(t *testing.T) {
	d := mailtest.StartDNS(t)
	d.TXT("ok.test", "v=spf1 ip4:127.0.0.0/8 -all")
	d.TXT("_dmarc.ok.test", "v=DMARC1; p=reject")
	d.TXT("reject.test", "v=spf1 -all")
	d.TXT("_dmarc.reject.test", "v=DMARC1; p=reject")
	d.TXT("quar.test", "v=spf1 -all")
	d.TXT("_dmarc.quar.test", "v=DMARC1; p=quarantine")
	forEachWith(t, func(t *testing.T, e *env) {
		forged := "Authentication-Results: mx.test; dkim=pass header.d=ok.test header.b=FORGED\r\n"
		tcheck(t, send(e.mx, "a@ok.test", []string{"john@example.test"}, msg("a@ok.test", "john@example.test", "fine", forged)), "send ok.test")
		err := send(e.mx, "a@reject.test", []string{"john@example.test"}, msg("a@reject.test", "john@example.test", "refused", ""))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
			t.Errorf("p=reject failing DMARC: %v, want 550 5.7.1", err)
		}
		tcheck(t, send(e.mx, "a@quar.test", []string{"john@example.test"}, msg("a@quar.test", "john@example.test", "suspect", "")), "send quar.test")

		inbox := e.stored("john@example.test")
		if len(inbox) != 1 || !strings.Contains(inbox[0], "Subject: fine") {
			t.Fatalf("john's INBOX holds %d messages, want the ok.test one: %q", len(inbox), inbox)
		}
		m := inbox[0]
		if strings.Contains(m, "FORGED") {
			t.Errorf("the forged Authentication-Results was kept:\n%s", m)
		}
		ars := topAuthResults(m)
		if len(ars) != 1 || strings.Count(m, "Authentication-Results:") != 1 {
			t.Fatalf("want one Authentication-Results above Received, got %q in\n%s", ars, m)
		}
		id, results, err := authres.Parse(ars[0])
		tcheck(t, err, "parse Authentication-Results")
		got := map[string]string{}
		for _, r := range results {
			switch r := r.(type) {
			case *authres.SPFResult:
				got["spf"] = string(r.Value)
			case *authres.DKIMResult:
				got["dkim"] = string(r.Value)
			case *authres.DMARCResult:
				got["dmarc"] = string(r.Value)
			}
		}
		if id != "mx.test" || got["spf"] != "pass" || got["dkim"] != "none" || got["dmarc"] != "pass" {
			t.Errorf("Authentication-Results %q: id %q, results %v", ars[0], id, got)
		}
		junk := mailtest.Folder(t, e.ctx, e.st, e.ids["john@example.test"], "Junk")
		if len(junk) != 1 || !strings.Contains(junk[0], "Subject: suspect") || !strings.Contains(junk[0], "dmarc=fail (p=quarantine)") {
			t.Errorf("Junk holds %q, want the quar.test message", junk)
		}

		// A forwarder example.test trusts: p=reject files into Junk.
		nets, err := tenants.ParseForwarders("127.0.0.1")
		tcheck(t, err, "parse networks")
		tcheck(t, e.ten.SetDMARCForwarders(e.ctx, sys, address.Domain("example.test"), nets), "trust forwarder")
		tcheck(t, send(e.mx, "a@reject.test", []string{"john@example.test"}, msg("a@reject.test", "john@example.test", "forwarded-reject", "")), "send from a trusted forwarder")
		junk = mailtest.Folder(t, e.ctx, e.st, e.ids["john@example.test"], "Junk")
		if len(junk) != 2 || !strings.Contains(junk[1], "Subject: forwarded-reject") {
			t.Errorf("a trusted forwarder's p=reject message is not in Junk: %d messages", len(junk))
		}
		if n := len(e.stored("john@example.test")); n != 1 {
			t.Errorf("INBOX holds %d messages, want 1", n)
		}
	}, envOptions{dns: d})
}

// TestOutboundSigned: mail a user submits for another server, and mail the
// MX forwards on, leave with the domain's Ed25519 and RSA signatures, which
// verify against the records DNS publishes; the signatures are made once,
// when the message is queued.
func TestOutboundSigned(t *testing.T) {
	d := mailtest.StartDNS(t)
	forEachWith(t, func(t *testing.T, e *env) {
		keys, err := e.ten.AddDKIMKeys(e.ctx, sys, address.Domain("example.test"))
		tcheck(t, err, "dkim add")
		for _, k := range keys {
			d.TXT(strings.TrimSuffix(k.Record.Name, "."), k.Record.Value)
		}
		remote := e.remote()
		c := e.submitClient(t, "john@example.test")
		tcheck(t, sendOn(c, "john@example.test", []string{"far@remote.test"}, msg("john@example.test", "far@remote.test", "signed", "")), "submit")
		c.Close()
		tcheck(t, send(e.mx, "someone@elsewhere.test", []string{"rfwd@example.test"}, msg("someone@elsewhere.test", "rfwd@example.test", "forwarded", "")), "send to forward")
		got := remote.wait(t, 2)
		lookup := func(name string) ([]string, error) {
			return e.dnsLookup(d, name)
		}
		for _, m := range got {
			vs, err := dkim.VerifyWithOptions(strings.NewReader(m.Data), &dkim.VerifyOptions{LookupTXT: lookup})
			tcheck(t, err, "verify")
			if len(vs) != 2 {
				t.Errorf("%d signatures, want 2:\n%s", len(vs), m.Data)
			}
			for _, v := range vs {
				if v.Err != nil || v.Domain != "example.test" {
					t.Errorf("signature of %s: %v", v.Domain, v.Err)
				}
			}
			if strings.Contains(m.Data, "Subject: forwarded") && !strings.Contains(m.Data, "Authentication-Results: mx.test;") {
				t.Errorf("the forward does not carry our Authentication-Results:\n%s", m.Data)
			}
		}
		for _, q := range e.queued() {
			if n := strings.Count(q.Prefix, "DKIM-Signature:"); n != 2 {
				t.Errorf("queued %s with %d signatures in its prefix", q.Kind, n)
			}
		}
	}, envOptions{dns: d})
}

// dnsLookup asks the loopback DNS server, as the MX's checks do.
func (e *env) dnsLookup(d *mailtest.DNS, name string) ([]string, error) {
	return resolverFor(d).LookupTXT(context.Background(), name)
}

func resolverFor(d *mailtest.DNS) *dnsres.Resolver {
	return &dnsres.Resolver{Server: d.Addr, Timeout: 2 * time.Second}
}
