package panel_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const newPW = "N3w#Secret!Pass9z"

// signedOut fails unless the browser's session is dead: sent to sign in,
// its cookie cleared.
func signedOut(t *testing.T, c *paneltest.Client, who string) {
	t.Helper()
	rec := c.Do(http.MethodGet, "/settings", nil)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Errorf("%s: session still works after the password change: GET /settings %d %s", who, rec.Code, rec.Header().Get("Location"))
	}
	if c.Cookies["postdesk_session"] != nil {
		t.Errorf("%s: session cookie not cleared", who)
	}
}

// withCookie is a new browser holding a copy of another's session cookie,
// as whoever stole it would.
func withCookie(f *paneltest.Fx, from *paneltest.Client) *paneltest.Client {
	c := f.Client()
	ck := *from.Cookies["postdesk_session"]
	c.Cookies["postdesk_session"] = &ck
	return c
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()

		// A postmaster resets a compromised mailbox's password: the
		// user's session and the thief's copy of it end, and so does a
		// session the thief signed in with the old password.
		ann := f.Client()
		ann.Login("ann@a.test", paneltest.PW)
		thief := withCookie(f, ann)
		thief.Get("/settings", http.StatusOK)
		thief2 := f.Client()
		thief2.Login("ann@a.test", paneltest.PW)
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		pm.Get("/d/a.test/mailboxes/ann", http.StatusOK)
		pm.Post("/d/a.test/mailboxes/ann/password", url.Values{"password": {newPW}, "password2": {newPW}}, http.StatusSeeOther)
		signedOut(t, ann, "ann")
		signedOut(t, thief, "stolen cookie")
		signedOut(t, thief2, "thief's own sign-in")
		pm.Get("/d/a.test", http.StatusOK) // the postmaster's own session is untouched
		ann.Get("/login", http.StatusOK)
		ann.Post("/login", url.Values{"login": {"ann@a.test"}, "password": {paneltest.PW}}, http.StatusUnauthorized)
		ann.Login("ann@a.test", newPW)
		ann.Get("/settings", http.StatusOK)

		// An imported hash (the CLI's, or a migration's) ends sessions too.
		carl := f.Client()
		carl.Login("carl@a.test", paneltest.PW)
		h, err := bcrypt.GenerateFromPassword([]byte(paneltest.PW), bcrypt.MinCost)
		paneltest.Must(t, err)
		_, err = f.S.UpdateMailbox(ctx, f.Sys, paneltest.Addr("carl@a.test"), tenants.MailboxUpdate{PasswordHash: ptr("{BLF-CRYPT}" + string(h))})
		paneltest.Must(t, err)
		signedOut(t, carl, "carl after a hash import")

		// The rehash at login keeps the password, and the sessions: carl
		// signs in with the imported hash (rehashed then), then an old
		// hash is put back behind the panel's back and another protocol's
		// login rehashes it again.
		carl.Login("carl@a.test", paneltest.PW)
		paneltest.Must(t, f.S.DB().Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE mailboxes SET password_hash = ? WHERE local_part = 'carl'", string(h)).Error
		}))
		if _, err := f.S.ResolveLogin(ctx, tenants.PanelLogin, "carl@a.test", paneltest.PW, "192.0.2.99"); err != nil {
			t.Fatal(err)
		}
		if m, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("carl@a.test")); err != nil || !strings.HasPrefix(m.PasswordHash, "$argon2id$") {
			t.Fatalf("not rehashed at login: %v", err)
		}
		carl.Get("/settings", http.StatusOK)

		// An administrator's new password ends their sessions.
		root := f.Client()
		root.Login("root", paneltest.AdminPW)
		root.Get("/admin", http.StatusOK)
		paneltest.Must(t, f.S.SetAdminPassword(ctx, f.Sys, "root", newPW))
		if rec := root.Do(http.MethodGet, "/admin", nil); rec.Code != http.StatusSeeOther || root.Cookies["postdesk_session"] != nil {
			t.Errorf("administrator's session survives a new password: %d", rec.Code)
		}
		root.Login("root", newPW)
		root.Get("/admin", http.StatusOK)
	})
}

func TestOwnPasswordChangeKeepsThisBrowser(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		here := f.Client()
		here.Login("ann@a.test", paneltest.PW)
		elsewhere := f.Client()
		elsewhere.Login("ann@a.test", paneltest.PW)
		thief := withCookie(f, here)
		before := here.Cookies["postdesk_session"].Value
		here.Get("/settings", http.StatusOK)
		oldCSRF := here.CSRF
		// A wrong current password changes nothing, ends nothing.
		here.Post("/settings/password", url.Values{"current_password": {"not-it"}, "password": {newPW}, "password2": {newPW}}, http.StatusUnprocessableEntity)
		elsewhere.Get("/settings", http.StatusOK)

		rec := here.Post("/settings/password", url.Values{"current_password": {paneltest.PW}, "password": {newPW}, "password2": {newPW}}, http.StatusSeeOther)
		after := here.Cookies["postdesk_session"]
		if after == nil || after.Value == before {
			t.Fatalf("no fresh session for the browser that changed its password: %v", rec.Header())
		}
		d := here.Follow(rec)
		if got := paneltest.Text(d, `[data-testid=flash]`); got != "Your password is changed." {
			t.Errorf("flash %q", got)
		}
		if here.CSRF != oldCSRF {
			t.Error("the fresh session changed the CSRF token of the browser's open pages")
		}
		here.Post("/logout", nil, http.StatusSeeOther) // the fresh session takes it
		signedOut(t, elsewhere, "another browser")
		signedOut(t, thief, "the old session id")

		// A postmaster setting their own password on the mailbox page
		// stays signed in too.
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		pm.Get("/d/a.test/mailboxes/pm", http.StatusOK)
		pm.Post("/d/a.test/mailboxes/pm/password", url.Values{"password": {newPW}, "password2": {newPW}}, http.StatusSeeOther)
		pm.Get("/d/a.test/mailboxes/pm", http.StatusOK)
	})
}

// TestDisableAndExpiryEndSessions: a panel session checks its login on
// every request, so disabling a mailbox (or its domain) or its expiry ends
// the session at its next request, as a password change does.
func TestDisableAndExpiryEndSessions(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		ann, carl := f.Client(), f.Client()
		ann.Login("ann@a.test", paneltest.PW)
		carl.Login("carl@a.test", paneltest.PW)
		ann.Get("/settings", http.StatusOK)
		carl.Get("/settings", http.StatusOK)
		other := tenantstest.Service(db, nil) // as from another process
		_, err := other.UpdateMailbox(ctx, f.Sys, paneltest.Addr("ann@a.test"), tenants.MailboxUpdate{Active: ptr(false)})
		paneltest.Must(t, err)
		signedOut(t, ann, "ann after a disable")
		carl.Get("/settings", http.StatusOK)
		past := time.Now().Add(-time.Minute)
		_, err = other.UpdateMailbox(ctx, f.Sys, paneltest.Addr("carl@a.test"), tenants.MailboxUpdate{ExpiresAt: &past})
		paneltest.Must(t, err)
		signedOut(t, carl, "carl after his expiry")
	})
}
