package panel_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSignInRedirectStaysHere tries the open redirects through "next" at
// both places it is followed: after signing in, and at the sign-in page
// of a browser already signed in.
func TestSignInRedirectStaysHere(t *testing.T) {
	hostile := []string{"/\t/evil.example", "/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "/\x00/evil.example"}
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		for _, next := range hostile {
			c := f.client()
			c.get("/login?next="+url.QueryEscape(next), http.StatusOK)
			rec := c.post("/login", url.Values{"login": {"ann@a.test"}, "password": {pw}, "next": {next}}, http.StatusSeeOther)
			if loc := rec.Header().Get("Location"); loc != "/" {
				t.Errorf("sign-in with next %q sent to %q", next, loc)
			}
			rec = c.do(http.MethodGet, "/login?next="+url.QueryEscape(next), nil)
			if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/" {
				t.Errorf("signed-in sign-in page with next %q: %d to %q", next, rec.Code, loc)
			}
		}
		// A path of ours is still followed, at both places.
		c := f.client()
		c.get("/login", http.StatusOK)
		rec := c.post("/login", url.Values{"login": {"ann@a.test"}, "password": {pw}, "next": {"/settings?tab=password"}}, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != "/settings?tab=password" {
			t.Errorf("next path after sign-in: %q", loc)
		}
		if loc := c.do(http.MethodGet, "/login?next=%2Fsettings", nil).Header().Get("Location"); loc != "/settings" {
			t.Errorf("next path when signed in: %q", loc)
		}
	})
}
