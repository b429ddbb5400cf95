package panel_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	paneltest.Must(t, err)
	return c
}

// TestAppPasswordPages: a user makes an app password in their settings
// (shown once, on that page only), sees it listed with its protocols and
// revokes it; a form without a protocol is refused.
func TestAppPasswordPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		c.Login("ann@a.test", paneltest.PW)
		d := c.Get("/settings", http.StatusOK)
		if d.Find(`[data-testid=app-password-form]`).Length() != 1 || !strings.Contains(paneltest.Text(d, `[data-testid=two-factor-summary]`), "Off") {
			t.Fatal("settings page lacks the security cards")
		}
		c.Post("/settings/app-passwords", url.Values{"name": {"Phone"}}, http.StatusUnprocessableEntity)
		rec := c.Post("/settings/app-passwords", url.Values{"name": {"Phone"}, "protocols": {"imap", "smtp"}}, http.StatusOK)
		d = paneltest.Doc(t, rec)
		pw := paneltest.Text(d, `[data-testid=app-password-made] code`)
		if len(pw) != 29 || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("made %q", pw)
		}
		if _, err := f.S.ResolveLogin(t.Context(), tenants.IMAPLogin, "ann@a.test", pw, ""); err != nil {
			t.Fatalf("the app password does not log in: %v", err)
		}
		d = c.Get("/settings", http.StatusOK)
		row := paneltest.Text(d, `[data-testid=app-password-row]`)
		if !strings.Contains(row, "Phone") || !strings.Contains(row, "imap, smtp") || strings.Contains(d.Text(), pw) {
			t.Fatalf("row %q", row)
		}
		c.Post("/settings/app-passwords/revoke", url.Values{"name": {"Nothing"}}, http.StatusNotFound)
		c.Post("/settings/app-passwords/revoke", url.Values{"name": {"Phone"}}, http.StatusSeeOther)
		if d := c.Get("/settings", http.StatusOK); d.Find(`[data-testid=app-password-row]`).Length() != 0 {
			t.Fatal("revoked app password listed")
		}
	})
}

// TestTwoFactorPages: enrolment with the QR code and the otpauth URI, a
// first code, recovery codes shown once; then the sign-in asks a second
// step (the pending session opens nothing else), takes a code once and a
// recovery code once; a domain that requires two factors keeps its users
// on the enrolment page; an administrator sets the rule for administrators.
func TestTwoFactorPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		clk := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		f := paneltest.NewFxAt(t, db, clk.Now)
		c := f.Client()
		c.Login("ann@a.test", paneltest.PW)
		c.Get("/two-factor", http.StatusOK)
		c.Post("/two-factor/begin", nil, http.StatusSeeOther)
		d := c.Get("/two-factor", http.StatusOK)
		qr, _ := d.Find(`[data-testid=two-factor-qr]`).Attr("src")
		secret := paneltest.Text(d, `[data-testid=two-factor-secret]`)
		if !strings.HasPrefix(qr, "data:image/png;base64,") || secret == "" || !strings.HasPrefix(paneltest.Text(d, `[data-testid=two-factor-uri]`), "otpauth://totp/") {
			t.Fatalf("enrolment page: qr %.40q secret %q", qr, secret)
		}
		c.Post("/two-factor/confirm", url.Values{"code": {"12345"}}, http.StatusUnprocessableEntity)
		rec := c.Post("/two-factor/confirm", url.Values{"code": {totpCode(t, secret, clk.Now())}}, http.StatusOK)
		codes := paneltest.Doc(t, rec).Find(`[data-testid=recovery-codes] code`)
		if codes.Length() != 10 {
			t.Fatalf("%d recovery codes", codes.Length())
		}
		recovery := codes.First().Text()

		// A new browser: password, then the second step.
		b := f.Client()
		b.Get("/login", http.StatusOK)
		rec = b.Post("/login", url.Values{"login": {"ann@a.test"}, "password": {paneltest.PW}, "next": {"/settings"}}, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, "/login/code") {
			t.Fatalf("after the password: %s", loc)
		}
		b.Get("/settings", http.StatusSeeOther) // not signed in yet
		b.Get("/login/code?next=%2Fsettings", http.StatusOK)
		b.Post("/login/code", url.Values{"code": {"000000"}, "next": {"/settings"}}, http.StatusUnauthorized)
		// The enrolment's code was used: it is not taken again.
		b.Post("/login/code", url.Values{"code": {totpCode(t, secret, clk.Now())}, "next": {"/settings"}}, http.StatusUnauthorized)
		clk.Advance(30 * time.Second)
		rec = b.Post("/login/code", url.Values{"code": {totpCode(t, secret, clk.Now())}, "next": {"/settings"}}, http.StatusSeeOther)
		if rec.Header().Get("Location") != "/settings" {
			t.Fatalf("after the code: %s", rec.Header().Get("Location"))
		}
		if d := b.Get("/settings", http.StatusOK); !strings.Contains(paneltest.Text(d, `[data-testid=two-factor-summary]`), "On") {
			t.Fatal("summary does not say on")
		}
		// A recovery code, once.
		for _, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
			r := f.Client()
			r.Get("/login", http.StatusOK)
			r.Post("/login", url.Values{"login": {"ann@a.test"}, "password": {paneltest.PW}}, http.StatusSeeOther)
			r.Get("/login/code", http.StatusOK)
			r.Post("/login/code", url.Values{"code": {recovery}}, want)
		}
		d = b.Get("/two-factor", http.StatusOK)
		if !strings.Contains(paneltest.Text(d, `[data-testid=two-factor-status]`), "9 recovery codes") {
			t.Fatalf("status %q", paneltest.Text(d, `[data-testid=two-factor-status]`))
		}
		rec = b.Post("/two-factor/recovery", nil, http.StatusOK)
		if paneltest.Doc(t, rec).Find(`[data-testid=recovery-codes] code`).Length() != 10 {
			t.Fatal("no new recovery codes")
		}
		b.Post("/two-factor/off", url.Values{"code": {"999999"}}, http.StatusUnprocessableEntity)
		clk.Advance(30 * time.Second)
		b.Post("/two-factor/off", url.Values{"code": {totpCode(t, secret, clk.Now())}}, http.StatusSeeOther)

		// The postmaster requires two factors: carl may only enrol.
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		pm.Get("/d/a.test", http.StatusOK)
		if d := pm.Get("/d/a.test/rules", http.StatusOK); d.Find(`input[name=require_two_factor]:checked`).Length() != 0 {
			t.Fatal("required before it was set")
		}
		pm.Post("/d/b.test/rules", url.Values{"require_two_factor": {"on"}}, http.StatusNotFound)
		pm.Post("/d/a.test/rules", url.Values{"require_two_factor": {"on"}}, http.StatusSeeOther)
		// The postmaster is a.test's user too: enrolment first.
		pm.Post("/d/a.test/rules", url.Values{}, http.StatusForbidden)
		carl := f.Client()
		carl.Get("/login", http.StatusOK)
		carl.Post("/login", url.Values{"login": {"carl@a.test"}, "password": {paneltest.PW}}, http.StatusSeeOther)
		if loc := carl.Do(http.MethodGet, "/settings", nil).Header().Get("Location"); loc != "/two-factor" {
			t.Fatalf("carl's settings: to %q", loc)
		}
		carl.Get("/two-factor", http.StatusOK)
		carl.Post("/settings/forwards", url.Values{"addresses": {"x@elsewhere.test"}}, http.StatusForbidden)
		if d := carl.Get("/two-factor", http.StatusOK); paneltest.Text(d, `[data-testid=two-factor-required]`) == "" {
			t.Fatal("the page does not say it is required")
		}

		// Administrators' rule: an administrator sets it, nobody else.
		pm.Post("/two-factor/admins", url.Values{"required": {"on"}}, http.StatusForbidden)
		root := f.Client()
		root.Login("root", paneltest.AdminPW)
		root.Get("/two-factor", http.StatusOK)
		root.Post("/two-factor/admins", url.Values{"required": {"on"}}, http.StatusSeeOther)
		if loc := root.Do(http.MethodGet, "/admin", nil).Header().Get("Location"); loc != "/two-factor" {
			t.Fatalf("an administrator without two factors goes to %q", loc)
		}
	})
}
