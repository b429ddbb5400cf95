package panel_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSignInRedirectStaysHere tries the open redirects through "next" at
// both places it is followed: after signing in, and at the sign-in page
// of a browser already signed in.
func TestSignInRedirectStaysHere(t *testing.T) {
	hostile := []string{"/\t/evil.example", "/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "/\x00/evil.example"}
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		for _, next := range hostile {
			c := f.Client()
			c.Get("/login?next="+url.QueryEscape(next), http.StatusOK)
			rec := c.Post("/login", url.Values{"login": {"ann@a.test"}, "password": {paneltest.PW}, "next": {next}}, http.StatusSeeOther)
			if loc := rec.Header().Get("Location"); loc != "/" {
				t.Errorf("sign-in with next %q sent to %q", next, loc)
			}
			rec = c.Do(http.MethodGet, "/login?next="+url.QueryEscape(next), nil)
			if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/" {
				t.Errorf("signed-in sign-in page with next %q: %d to %q", next, rec.Code, loc)
			}
		}
		// A path of ours is still followed, at both places.
		c := f.Client()
		c.Get("/login", http.StatusOK)
		rec := c.Post("/login", url.Values{"login": {"ann@a.test"}, "password": {paneltest.PW}, "next": {"/settings?tab=password"}}, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != "/settings?tab=password" {
			t.Errorf("next path after sign-in: %q", loc)
		}
		if loc := c.Do(http.MethodGet, "/login?next=%2Fsettings", nil).Header().Get("Location"); loc != "/settings" {
			t.Errorf("next path when signed in: %q", loc)
		}
	})
}
