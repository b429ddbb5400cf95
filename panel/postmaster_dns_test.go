package panel_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestPostmasterDNS: a postmaster's DNS page lists the records to publish;
// the first DKIM keys are made there (both records shown, split into
// strings of at most 255 octets, never a private key), a rotation waits
// for its records and a second is refused with a message; another
// domain's postmaster gets not-found for the page and the forms.
func TestPostmasterDNS(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		doc := c.Get("/d/a.test/dns", http.StatusOK)
		if doc.Find(`[data-testid="dkim-add"]`).Length() != 1 || doc.Find(`[data-testid="dns-DKIM"]`).Length() != 0 {
			t.Fatalf("a domain without keys: no add form, or DKIM rows")
		}
		for _, k := range []string{"MX", "SPF", "DMARC"} {
			if doc.Find(`[data-testid="dns-`+k+`"]`).Length() != 1 {
				t.Errorf("no %s row", k)
			}
		}
		if !strings.Contains(paneltest.Text(doc, `[data-testid="dns-DMARC"]`), "_dmarc.a.test.") {
			t.Errorf("DMARC row: %q", paneltest.Text(doc, `[data-testid="dns-DMARC"]`))
		}
		if doc.Find(`nav a[href="/d/a.test/dns"]`).Length() != 1 {
			t.Errorf("no DNS link in the postmaster's navigation")
		}

		doc = c.Follow(c.Post("/d/a.test/dkim", nil, http.StatusSeeOther))
		rows := doc.Find(`[data-testid="dns-DKIM"]`)
		if rows.Length() != 2 || doc.Find(`[data-testid="dkim-rotate"]`).Length() != 1 {
			t.Fatalf("after add: %d DKIM rows, rotate form %d", rows.Length(), doc.Find(`[data-testid="dkim-rotate"]`).Length())
		}
		text := rows.Text()
		if !strings.Contains(text, "k=ed25519") || !strings.Contains(text, "k=rsa") || !strings.Contains(text, `" "`) {
			t.Errorf("DKIM records: %s", paneltest.Snippet(text))
		}
		html, _ := doc.Html()
		if strings.Contains(html, "v1:") || strings.Contains(html, "PRIVATE") {
			t.Errorf("the page shows a private key")
		}

		doc = c.Follow(c.Post("/d/a.test/dkim/rotate", nil, http.StatusSeeOther))
		if doc.Find(`[data-testid="dkim-waiting"]`).Length() != 1 || doc.Find(`[data-testid="dns-DKIM"]`).Length() != 4 ||
			doc.Find(`[data-testid="dkim-rotate"]`).Length() != 0 {
			t.Errorf("after rotate: waiting %d, %d DKIM rows", doc.Find(`[data-testid="dkim-waiting"]`).Length(), doc.Find(`[data-testid="dns-DKIM"]`).Length())
		}
		rec := c.Post("/d/a.test/dkim/rotate", nil, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid="dns-error"]`), "waiting") {
			t.Errorf("second rotation: %s", paneltest.Snippet(rec.Body.String()))
		}

		b := f.Client()
		b.Login("pm@b.test", paneltest.PW)
		b.Get("/d/a.test/dns", http.StatusNotFound)
		b.Post("/d/a.test/dkim", nil, http.StatusNotFound)
		b.Post("/d/a.test/dkim/rotate", nil, http.StatusNotFound)
	})
}
