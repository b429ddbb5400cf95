package panel_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/clientsetup"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func clientSetupFx(t *testing.T, db *database.DB) *paneltest.Fx {
	return paneltest.NewFx(t, db, func(d *panel.Deps) {
		s := &clientsetup.Servers{Host: "mail.a.test"}
		paneltest.Must(t, s.ParsePorts("imaps=993,pop3s=995,submission=587"))
		d.ClientSetup = s
	})
}

// TestSettingsClientSetup: a user's settings name the public servers and
// both login forms; without ClientSetup the section is left out.
func TestSettingsClientSetup(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := clientSetupFx(t, db)
		ann := f.Client()
		ann.Login("ann@a.test", paneltest.PW)
		doc := ann.Get("/settings", http.StatusOK)
		sec := doc.Find(`[data-testid="client-setup"]`)
		if sec.Length() != 1 {
			t.Fatal("no client set-up section")
		}
		var rows []string
		sec.Find("tbody tr").Each(func(_ int, r *goquery.Selection) {
			var cells []string
			r.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
			rows = append(rows, strings.Join(cells, " "))
		})
		want := []string{"Incoming (IMAP) mail.a.test 993 SSL/TLS", "Incoming (POP3) mail.a.test 995 SSL/TLS", "Outgoing (SMTP) mail.a.test 587 STARTTLS"}
		if strings.Join(rows, "|") != strings.Join(want, "|") {
			t.Errorf("servers %q, want %q", rows, want)
		}
		if text := sec.Text(); !strings.Contains(text, "ann@a.test or ann/a.test") {
			t.Errorf("login forms missing: %q", text)
		}

		plain := paneltest.NewFx(t, tenantstest.Open(t, database.SQLite))
		c := plain.Client()
		c.Login("ann@a.test", paneltest.PW)
		if c.Get("/settings", http.StatusOK).Find(`[data-testid="client-setup"]`).Length() != 0 {
			t.Error("a set-up section without ClientSetup")
		}
	})
}

// TestClientSetupRoutes: the client set-up routes answer clients without a
// panel session or CSRF token (POST included), outside the CSRF group.
func TestClientSetupRoutes(t *testing.T) {
	f := clientSetupFx(t, tenantstest.Open(t, database.SQLite))
	c := f.Client() // no session
	for _, path := range []string{"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann%40a.test", "/mail/config-v1.1.xml?emailaddress=ann%40a.test"} {
		rec := c.Do("GET", path, nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<hostname>mail.a.test</hostname>") {
			t.Errorf("GET %s: %d\n%s", path, rec.Code, rec.Body)
		}
	}
	pox := `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>ann@a.test</EMailAddress></Request></Autodiscover>`
	for _, path := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"} {
		rec := c.Do("POST", path, pox)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<Server>mail.a.test</Server>") {
			t.Errorf("POST %s: %d\n%s", path, rec.Code, rec.Body)
		}
	}
	for _, path := range []string{"/autodiscover/autodiscover.json?Email=ann@a.test&Protocol=AutodiscoverV1",
		"/autodiscover/autodiscover.json/v1.0/ann@a.test?Protocol=AutodiscoverV1"} {
		if rec := c.Do("GET", path, nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "AutodiscoverV1") {
			t.Errorf("GET %s: %d\n%s", path, rec.Code, rec.Body)
		}
	}
	// Another tenant's domain is served alike (it is public, as its MX
	// is), an unknown one not.
	if rec := c.Do("GET", "/mail/config-v1.1.xml?emailaddress=x%40nowhere.test", nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown domain: %d", rec.Code)
	}
}
