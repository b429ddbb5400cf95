package panel_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestSignInAndSessions(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		if rec := c.Do(http.MethodGet, "/", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Fatalf("GET / signed out: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		d := c.Get("/login", http.StatusOK)
		if d.Find(`input[type=password]`).Length() != 1 || c.CSRF == "" {
			t.Fatal("no sign-in form with a CSRF token")
		}
		pre := c.Cookies["postdesk_csrf"]
		if pre == nil || !pre.HttpOnly || pre.Value != c.CSRF {
			t.Fatalf("sign-in token cookie %+v", pre)
		}
		healthz := c.Do(http.MethodGet, "/healthz", nil)
		if healthz.Code != http.StatusOK || !strings.Contains(healthz.Body.String(), `"ok"`) {
			t.Errorf("healthz %d %s", healthz.Code, healthz.Body)
		}

		// Wrong password: the form again, with the reason, nothing leaked.
		rec := c.Post("/login", url.Values{"login": {"pm@a.test"}, "password": {"wrong-password"}}, http.StatusUnauthorized)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=signin-error]`), "Wrong user name or password.") {
			t.Errorf("no error shown: %s", paneltest.Snippet(rec.Body.String()))
		}
		if c.Cookies["postdesk_session"] != nil {
			t.Fatal("a failed login set a session")
		}

		// user/domain form; a session that is HttpOnly, SameSite, not
		// Secure over plain HTTP; the start page of a postmaster.
		c.Get("/login", http.StatusOK)
		rec = c.Post("/login", url.Values{"login": {"PM/A.test"}, "password": {paneltest.PW}, "next": {"/d/a.test/aliases"}}, http.StatusSeeOther)
		if rec.Header().Get("Location") != "/d/a.test/aliases" {
			t.Errorf("next: %s", rec.Header().Get("Location"))
		}
		s1 := c.Cookies["postdesk_session"]
		if s1 == nil || !s1.HttpOnly || s1.SameSite != http.SameSiteLaxMode || s1.Secure {
			t.Fatalf("session cookie %+v", s1)
		}
		if c.Cookies["postdesk_csrf"] != nil {
			t.Error("the sign-in token cookie outlives the sign-in")
		}
		if loc := c.Do(http.MethodGet, "/", nil).Header().Get("Location"); loc != "/d/a.test" {
			t.Errorf("postmaster start page %s", loc)
		}
		d = c.Get("/d/a.test", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=user]`); got != "pm@a.test (postmaster)" {
			t.Errorf("header user %q", got)
		}

		// Signing in again gives a new session id; the old one is dead.
		c.Get("/login", http.StatusSeeOther) // signed in: sent on
		rec = c.Post("/login", url.Values{"login": {"ann@a.test"}, "password": {paneltest.PW}}, http.StatusSeeOther)
		s2 := c.Cookies["postdesk_session"]
		if s2 == nil || s2.Value == s1.Value {
			t.Fatal("session id not renewed at login")
		}
		old := f.Client()
		old.Cookies["postdesk_session"] = s1
		if rec := old.Do(http.MethodGet, "/d/a.test", nil); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Errorf("old session still works: %d", rec.Code)
		}
		if loc := c.Do(http.MethodGet, "/", nil).Header().Get("Location"); loc != "/settings" {
			t.Errorf("user start page %s", loc)
		}
		c.Get("/d/a.test", http.StatusForbidden) // a user is no postmaster
		c.Get("/admin", http.StatusForbidden)

		// Logout kills the session for whoever holds its id.
		c.Get("/settings", http.StatusOK)
		stolen := f.Client()
		stolen.Cookies["postdesk_session"] = s2
		out := c.Post("/logout", nil, http.StatusSeeOther)
		if c.Cookies["postdesk_session"] != nil {
			t.Error("logout left the cookie")
		}
		if got := paneltest.Text(c.Follow(out), `[data-testid=signin-notice]`); got != "You are signed out." {
			t.Errorf("after sign-out the page says %q", got)
		}
		if rec := stolen.Do(http.MethodGet, "/settings", nil); rec.Code != http.StatusSeeOther {
			t.Errorf("session alive after logout: %d", rec.Code)
		}

		// Administrators by bare name.
		a := f.Client()
		a.Login("root", paneltest.AdminPW)
		a.Get("/admin", http.StatusOK)
		a.Get("/settings", http.StatusForbidden) // no mailbox of their own

		// A mailbox without webmail permission may not use the panel; a
		// mailbox disabled while signed in is signed out.
		ctx := context.Background()
		off := false
		if _, err := f.S.UpdateMailbox(ctx, f.Sys, paneltest.Addr("carl@a.test"), tenants.MailboxUpdate{Webmail: &off}); err != nil {
			t.Fatal(err)
		}
		u := f.Client()
		u.Get("/login", http.StatusOK)
		rec = u.Post("/login", url.Values{"login": {"carl@a.test"}, "password": {paneltest.PW}}, http.StatusForbidden)
		if !strings.Contains(rec.Body.String(), "may not sign in") {
			t.Errorf("webmail-less login: %s", paneltest.Snippet(rec.Body.String()))
		}
		b := f.Client()
		b.Login("ann@a.test", paneltest.PW)
		if _, err := f.S.UpdateMailbox(ctx, f.Sys, paneltest.Addr("ann@a.test"), tenants.MailboxUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}
		if rec := b.Do(http.MethodGet, "/settings", nil); rec.Code != http.StatusSeeOther {
			t.Errorf("disabled mailbox keeps its session: %d", rec.Code)
		}
	})
}

func TestSignInThrottle(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		for i := range 10 {
			c.Get("/login", http.StatusOK)
			c.Post("/login", url.Values{"login": {"ann@a.test"}, "password": {"not-it-" + string(rune('a'+i))}}, http.StatusUnauthorized)
		}
		c.Get("/login", http.StatusOK)
		rec := c.Post("/login", url.Values{"login": {"ann/a.test"}, "password": {paneltest.PW}}, http.StatusUnauthorized)
		if !strings.Contains(rec.Body.String(), "Too many failed logins") {
			t.Errorf("account not locked after 10 failures: %s", paneltest.Snippet(rec.Body.String()))
		}
	})
}

func TestCSRF(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		c.Get("/d/a.test", http.StatusOK)
		form := url.Values{"local_part": {"evil"}, "password": {paneltest.PW}, "active": {"on"}, "store_mail": {"on"}}
		for _, tc := range []struct {
			name  string
			token string
			site  string
		}{
			{"no token", "", ""},
			{"wrong token", wrongToken(c.CSRF), ""},
			{"cross-site with the right token", c.CSRF, "cross-site"},
		} {
			f2 := url.Values{}
			for k, v := range form {
				f2[k] = v
			}
			f2.Set("csrf", tc.token)
			if tc.token == "" {
				f2.Set("csrf", "")
			}
			c.Header.Set("Sec-Fetch-Site", tc.site)
			rec := c.Do(http.MethodPost, "/d/a.test/mailboxes", f2)
			c.Header.Del("Sec-Fetch-Site")
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", tc.name, rec.Code)
			}
		}
		if _, err := f.S.Mailbox(context.Background(), f.Sys, paneltest.Addr("evil@a.test")); err == nil {
			t.Fatal("a refused POST created the mailbox")
		}
		// A login form posted from another site is refused too.
		o := f.Client()
		o.Header.Set("Sec-Fetch-Site", "cross-site")
		o.Get("/login", http.StatusOK)
		o.Post("/login", url.Values{"login": {"root"}, "password": {paneltest.AdminPW}}, http.StatusForbidden)
		c.Header.Set("Sec-Fetch-Site", "same-origin")
		c.Post("/d/a.test/mailboxes", form, http.StatusSeeOther)
	})
}

func TestProxyAndSecureCookies(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db, func(d *panel.Deps) {
			d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		})
		// Through the trusted proxy: the client's address and scheme.
		c := f.Client()
		c.Remote = "10.1.2.3:4444"
		c.Header.Set("X-Forwarded-For", "198.51.100.7, 10.9.9.9")
		c.Header.Set("X-Forwarded-Proto", "https")
		c.Login("pm@a.test", paneltest.PW)
		if s := c.Cookies["postdesk_session"]; s == nil || !s.Secure {
			t.Errorf("cookie over https through a trusted proxy not Secure: %+v", s)
		}
		c.Get("/d/a.test/mailboxes/new", http.StatusOK)
		c.Post("/d/a.test/mailboxes", url.Values{"local_part": {"viaproxy"}, "password": {paneltest.PW}, "active": {"on"}, "store_mail": {"on"}}, http.StatusSeeOther)
		es, _, err := f.S.AuditRecords(context.Background(), f.Sys, tenants.AuditQuery{Limit: 1})
		if err != nil || len(es) != 1 || es[0].RemoteAddr != "198.51.100.7" || es[0].Actor != "pm@a.test" {
			t.Errorf("audit entry %+v %v, want remote 198.51.100.7", es, err)
		}
		// Not through it: the headers are not believed.
		u := f.Client()
		u.Remote = "203.0.113.9:1234"
		u.Header.Set("X-Forwarded-For", "198.51.100.7")
		u.Header.Set("X-Forwarded-Proto", "https")
		u.Login("pm@a.test", paneltest.PW)
		if s := u.Cookies["postdesk_session"]; s.Secure {
			t.Error("an untrusted X-Forwarded-Proto made the cookie Secure")
		}
		u.Get("/d/a.test/mailboxes/new", http.StatusOK)
		u.Post("/d/a.test/mailboxes", url.Values{"local_part": {"direct"}, "password": {paneltest.PW}, "active": {"on"}, "store_mail": {"on"}}, http.StatusSeeOther)
		es, _, _ = f.S.AuditRecords(context.Background(), f.Sys, tenants.AuditQuery{Limit: 1})
		if es[0].RemoteAddr != "203.0.113.9" {
			t.Errorf("untrusted X-Forwarded-For believed: %s", es[0].RemoteAddr)
		}
	})
	t.Run("https public URL", func(t *testing.T) {
		f := paneltest.NewFx(t, tenantstest.Open(t, database.SQLite), func(d *panel.Deps) { d.PublicURL = "https://mail.example.test" })
		c := f.Client()
		c.Login("root", paneltest.AdminPW)
		if s := c.Cookies["postdesk_session"]; !s.Secure {
			t.Error("https public URL: cookie not Secure")
		}
	})
}

// wrongToken is token with its first character changed.
func wrongToken(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}
