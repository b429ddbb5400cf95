package tenants_test

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestCredentialsVersion: every password change or imported hash moves an
// account's credentials version on (panel sessions end on it); other
// changes, logins and the rehash at login leave it.
func TestCredentialsVersion(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		version := func() int64 {
			t.Helper()
			return f.read("john@a.example").CredentialsVersion
		}
		want := func(step string, got, want int64) {
			t.Helper()
			if got != want {
				t.Errorf("%s: credentials version %d, want %d", step, got, want)
			}
		}
		want("new mailbox", version(), 0)

		m := f.update("john@a.example", tenants.MailboxUpdate{FullName: ptrTo("John Q"), QuotaBytes: ptrTo(int64(1 << 20))})
		want("settings changed", m.CredentialsVersion, 0)
		want("settings changed, stored", version(), 0)

		m = f.update("john@a.example", tenants.MailboxUpdate{Password: ptrTo(fxPassword2)})
		want("password reset", m.CredentialsVersion, 1)
		want("password reset, stored", version(), 1)

		h, err := bcrypt.GenerateFromPassword([]byte(fxPassword), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		m = f.update("john@a.example", tenants.MailboxUpdate{PasswordHash: ptrTo(string(h))})
		want("hash imported", m.CredentialsVersion, 2)

		// The login rehashes the imported hash: same password, same
		// version, on the login it returns and in the database.
		l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.1:4000")
		if err != nil {
			t.Fatal(err)
		}
		if rehashed := f.read("john@a.example").PasswordHash; rehashed == string(h) {
			t.Fatal("the login did not rehash the imported hash")
		}
		want("login's mailbox", l.Mailbox.CredentialsVersion, 2)
		want("rehashed at login", version(), 2)

		// A failed change leaves it; the user's own change moves it and
		// returns the mailbox with the new version.
		if _, err := f.svc.ChangeOwnPassword(f.ctx, l.UserScope("192.0.2.1"), "not-my-password", fxPassword2); err == nil {
			t.Fatal("wrong current password accepted")
		}
		want("refused own change", version(), 2)
		m, err = f.svc.ChangeOwnPassword(f.ctx, l.UserScope("192.0.2.1"), fxPassword, fxPassword2)
		if err != nil {
			t.Fatal(err)
		}
		want("own change", m.CredentialsVersion, 3)
		want("own change, stored", version(), 3)
		want("other mailbox", f.read("jane@a.example").CredentialsVersion, 0)

		// Administrators: a new password moves it, a login does not.
		admin := func(password string) int64 {
			t.Helper()
			l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "admin", password, "192.0.2.1:4000")
			if err != nil {
				t.Fatal(err)
			}
			return l.Admin.CredentialsVersion
		}
		want("first admin", admin(fxPassword), 0)
		if err := f.svc.SetAdminPassword(f.ctx, f.sys, "admin", fxPassword2); err != nil {
			t.Fatal(err)
		}
		want("admin password set", admin(fxPassword2), 1)
		want("admin logged in again", admin(fxPassword2), 1)
		if err := f.svc.SetAdminPassword(f.ctx, f.sys, "nobody", fxPassword2); err == nil {
			t.Error("password set for an unknown administrator")
		}
	})
}
