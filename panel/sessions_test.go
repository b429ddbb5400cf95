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

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const newPW = "N3w#Secret!Pass9z"

// signedOut fails unless the browser's session is dead: sent to sign in,
// its cookie cleared.
func signedOut(t *testing.T, c *client, who string) {
	t.Helper()
	rec := c.do(http.MethodGet, "/settings", nil)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Errorf("%s: session still works after the password change: GET /settings %d %s", who, rec.Code, rec.Header().Get("Location"))
	}
	if c.cookies["postdesk_session"] != nil {
		t.Errorf("%s: session cookie not cleared", who)
	}
}

// withCookie is a new browser holding a copy of another's session cookie,
// as whoever stole it would.
func withCookie(f *fx, from *client) *client {
	c := f.client()
	ck := *from.cookies["postdesk_session"]
	c.cookies["postdesk_session"] = &ck
	return c
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		ctx := context.Background()

		// A postmaster resets a compromised mailbox's password: the
		// user's session and the thief's copy of it end, and so does a
		// session the thief signed in with the old password.
		ann := f.client()
		ann.login("ann@a.test", pw)
		thief := withCookie(f, ann)
		thief.get("/settings", http.StatusOK)
		thief2 := f.client()
		thief2.login("ann@a.test", pw)
		pm := f.client()
		pm.login("pm@a.test", pw)
		pm.get("/d/a.test/mailboxes/ann", http.StatusOK)
		pm.post("/d/a.test/mailboxes/ann/password", url.Values{"password": {newPW}, "password2": {newPW}}, http.StatusSeeOther)
		signedOut(t, ann, "ann")
		signedOut(t, thief, "stolen cookie")
		signedOut(t, thief2, "thief's own sign-in")
		pm.get("/d/a.test", http.StatusOK) // the postmaster's own session is untouched
		ann.get("/login", http.StatusOK)
		ann.post("/login", url.Values{"login": {"ann@a.test"}, "password": {pw}}, http.StatusUnauthorized)
		ann.login("ann@a.test", newPW)
		ann.get("/settings", http.StatusOK)

		// An imported hash (the CLI's, or a migration's) ends sessions too.
		carl := f.client()
		carl.login("carl@a.test", pw)
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		must(t, err)
		_, err = f.s.UpdateMailbox(ctx, f.sys, addr("carl@a.test"), tenants.MailboxUpdate{PasswordHash: ptr("{BLF-CRYPT}" + string(h))})
		must(t, err)
		signedOut(t, carl, "carl after a hash import")

		// The rehash at login keeps the password, and the sessions: carl
		// signs in with the imported hash (rehashed then), then an old
		// hash is put back behind the panel's back and another protocol's
		// login rehashes it again.
		carl.login("carl@a.test", pw)
		must(t, f.s.DB().Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE mailboxes SET password_hash = ? WHERE local_part = 'carl'", string(h)).Error
		}))
		if _, err := f.s.ResolveLogin(ctx, tenants.PanelLogin, "carl@a.test", pw, "192.0.2.99"); err != nil {
			t.Fatal(err)
		}
		if m, err := f.s.Mailbox(ctx, f.sys, addr("carl@a.test")); err != nil || !strings.HasPrefix(m.PasswordHash, "$argon2id$") {
			t.Fatalf("not rehashed at login: %v", err)
		}
		carl.get("/settings", http.StatusOK)

		// An administrator's new password ends their sessions.
		root := f.client()
		root.login("root", adminPW)
		root.get("/admin", http.StatusOK)
		must(t, f.s.SetAdminPassword(ctx, f.sys, "root", newPW))
		if rec := root.do(http.MethodGet, "/admin", nil); rec.Code != http.StatusSeeOther || root.cookies["postdesk_session"] != nil {
			t.Errorf("administrator's session survives a new password: %d", rec.Code)
		}
		root.login("root", newPW)
		root.get("/admin", http.StatusOK)
	})
}

func TestOwnPasswordChangeKeepsThisBrowser(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		here := f.client()
		here.login("ann@a.test", pw)
		elsewhere := f.client()
		elsewhere.login("ann@a.test", pw)
		thief := withCookie(f, here)
		before := here.cookies["postdesk_session"].Value
		here.get("/settings", http.StatusOK)
		oldCSRF := here.csrf
		// A wrong current password changes nothing, ends nothing.
		here.post("/settings/password", url.Values{"current_password": {"not-it"}, "password": {newPW}, "password2": {newPW}}, http.StatusUnprocessableEntity)
		elsewhere.get("/settings", http.StatusOK)

		rec := here.post("/settings/password", url.Values{"current_password": {pw}, "password": {newPW}, "password2": {newPW}}, http.StatusSeeOther)
		after := here.cookies["postdesk_session"]
		if after == nil || after.Value == before {
			t.Fatalf("no fresh session for the browser that changed its password: %v", rec.Header())
		}
		d := here.follow(rec)
		if got := text(d, `[data-testid=flash]`); got != "Your password is changed." {
			t.Errorf("flash %q", got)
		}
		if here.csrf != oldCSRF {
			t.Error("the fresh session changed the CSRF token of the browser's open pages")
		}
		here.post("/logout", nil, http.StatusSeeOther) // the fresh session takes it
		signedOut(t, elsewhere, "another browser")
		signedOut(t, thief, "the old session id")

		// A postmaster setting their own password on the mailbox page
		// stays signed in too.
		pm := f.client()
		pm.login("pm@a.test", pw)
		pm.get("/d/a.test/mailboxes/pm", http.StatusOK)
		pm.post("/d/a.test/mailboxes/pm/password", url.Values{"password": {newPW}, "password2": {newPW}}, http.StatusSeeOther)
		pm.get("/d/a.test/mailboxes/pm", http.StatusOK)
	})
}

// TestDisableAndExpiryEndSessions: a panel session checks its login on
// every request, so disabling a mailbox (or its domain) or its expiry ends
// the session at its next request, as a password change does.
func TestDisableAndExpiryEndSessions(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		ctx := context.Background()
		ann, carl := f.client(), f.client()
		ann.login("ann@a.test", pw)
		carl.login("carl@a.test", pw)
		ann.get("/settings", http.StatusOK)
		carl.get("/settings", http.StatusOK)
		other := tenantstest.Service(db, nil) // as from another process
		_, err := other.UpdateMailbox(ctx, f.sys, addr("ann@a.test"), tenants.MailboxUpdate{Active: ptr(false)})
		must(t, err)
		signedOut(t, ann, "ann after a disable")
		carl.get("/settings", http.StatusOK)
		past := time.Now().Add(-time.Minute)
		_, err = other.UpdateMailbox(ctx, f.sys, addr("carl@a.test"), tenants.MailboxUpdate{ExpiresAt: &past})
		must(t, err)
		signedOut(t, carl, "carl after his expiry")
	})
}
