package panel_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// policy asks the panel for host's MTA-STS policy, as a sending server
// does, without a session.
func policy(f *paneltest.Fx, host string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/.well-known/mta-sts.txt", nil)
	req.Host = host
	rec := httptest.NewRecorder()
	f.E.ServeHTTP(rec, req)
	return rec
}

// TestMTASTSPolicy: a domain's postmaster sets its MTA-STS mode on the DNS
// page, which then asks for the _mta-sts, mta-sts host and TLS-RPT
// records; the policy is served by Host at mta-sts.DOMAIN to anyone, 404
// for a domain in mode none, one not hosted, or another host name; a bad
// mode is refused with a message, another domain's postmaster gets
// not-found.
func TestMTASTSPolicy(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db, func(d *panel.Deps) { d.MailHost = "mx.postdesk.test" })
		if rec := policy(f, "mta-sts.a.test"); rec.Code != http.StatusNotFound {
			t.Errorf("policy in mode none: %d", rec.Code)
		}
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		doc := c.Get("/d/a.test/dns", http.StatusOK)
		if doc.Find(`[data-testid="mta-sts-form"] option[selected][value="none"]`).Length() != 1 ||
			doc.Find(`[data-testid="dns-MTA-STS"]`).Length() != 0 || doc.Find(`[data-testid="dns-TLS-RPT"]`).Length() != 1 {
			t.Errorf("DNS page in mode none")
		}
		rec := c.Post("/d/a.test/mta-sts", url.Values{"mode": {"strict"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid="dns-error"]`), "none, testing or enforce") {
			t.Errorf("bad mode: %s", paneltest.Snippet(rec.Body.String()))
		}
		doc = c.Follow(c.Post("/d/a.test/mta-sts", url.Values{"mode": {"enforce"}}, http.StatusSeeOther))
		if doc.Find(`[data-testid="mta-sts-form"] option[selected][value="enforce"]`).Length() != 1 {
			t.Errorf("the form does not show mode enforce")
		}
		if !strings.Contains(paneltest.Text(doc, `[data-testid="dns-MTA-STS"]`), `_mta-sts.a.test. IN TXT "v=STSv1; id=`) ||
			!strings.Contains(paneltest.Text(doc, `[data-testid="dns-MTA-STS host"]`), "mta-sts.a.test. IN CNAME mx.postdesk.test.") ||
			!strings.Contains(paneltest.Text(doc, `[data-testid="dns-TLS-RPT"]`), `_smtp._tls.a.test. IN TXT "v=TLSRPTv1; rua=mailto:postmaster@a.test"`) {
			t.Errorf("records: %s", paneltest.Snippet(paneltest.Text(doc, `[data-testid="dns-records"]`)))
		}
		for _, host := range []string{"mta-sts.a.test", "MTA-STS.a.test:443"} {
			rec = policy(f, host)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" ||
				rec.Body.String() != "version: STSv1\r\nmode: enforce\r\nmx: mx.postdesk.test\r\nmax_age: 604800\r\n" {
				t.Errorf("policy at %s: %d %q %q", host, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
		}
		for _, host := range []string{"mta-sts.b.test", "mta-sts.nowhere.test", "a.test", "mta-sts.", "autoconfig.a.test"} {
			if rec := policy(f, host); rec.Code != http.StatusNotFound {
				t.Errorf("policy at %s: %d", host, rec.Code)
			}
		}
		b := f.Client()
		b.Login("pm@b.test", paneltest.PW)
		b.Get("/d/b.test/dns", http.StatusOK)
		b.Post("/d/a.test/mta-sts", url.Values{"mode": {"none"}}, http.StatusNotFound)
		if rec := policy(f, "mta-sts.a.test"); rec.Code != http.StatusOK {
			t.Errorf("after b's attempt: %d", rec.Code)
		}
	})
}
