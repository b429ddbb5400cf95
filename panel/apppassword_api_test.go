package panel_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAppPasswordAPI: a domain key makes an app password for its user (the
// password in that answer only), lists and revokes it; another domain's
// user is not found.
func TestAppPasswordAPI(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		base := "/api/v1/domains/a.test/mailboxes/ann/app-passwords"
		if rec := c.API(http.MethodPost, base, f.AKey, `{"name":"Laptop","protocols":["imap","telnet"]}`); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("unknown protocol: %d %s", rec.Code, rec.Body)
		}
		rec := c.API(http.MethodPost, base, f.AKey, `{"name":"Laptop","protocols":["pop3","imap"]}`)
		var made struct {
			Name      string   `json:"name"`
			Protocols []string `json:"protocols"`
			Password  string   `json:"password"`
		}
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &made) != nil || made.Password == "" || strings.Join(made.Protocols, ",") != "imap,pop3" {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		if _, err := f.S.ResolveLogin(t.Context(), tenants.POP3Login, "ann@a.test", made.Password, ""); err != nil {
			t.Fatal(err)
		}
		rec = c.API(http.MethodGet, base, f.AKey, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"Laptop"`) || strings.Contains(rec.Body.String(), made.Password) || strings.Contains(rec.Body.String(), `"password"`) {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
		for _, p := range []string{"/api/v1/domains/b.test/mailboxes/bob/app-passwords"} {
			if rec := c.API(http.MethodGet, p, f.AKey, ""); rec.Code != http.StatusNotFound {
				t.Errorf("a.test's key lists %s: %d", p, rec.Code)
			}
			if rec := c.API(http.MethodPost, p, f.AKey, `{"name":"x","protocols":["imap"]}`); rec.Code != http.StatusNotFound {
				t.Errorf("a.test's key makes one at %s: %d", p, rec.Code)
			}
		}
		if rec := c.API(http.MethodDelete, base+"/Laptop", f.BKey, ""); rec.Code != http.StatusNotFound {
			t.Errorf("b.test's key revoked a.test's: %d", rec.Code)
		}
		if rec := c.API(http.MethodDelete, base+"/Laptop", f.AKey, ""); rec.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", rec.Code, rec.Body)
		}
		if rec := c.API(http.MethodDelete, base+"/Laptop", f.AKey, ""); rec.Code != http.StatusNotFound {
			t.Fatalf("delete twice: %d", rec.Code)
		}
	})
}
