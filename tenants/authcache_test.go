package tenants_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/auth"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAuthCache: a right password is hashed once per process and credentials
// version; a wrong one always; a password change in another process, a
// disable, an expiry and the throttle all still apply to a remembered
// password.
func TestAuthCache(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		svc := tenants.New(db, tenants.Options{Hasher: auth.TestHasher(), Now: f.clock.Now})
		other := tenants.New(db, tenants.Options{Hasher: auth.TestHasher(), Now: f.clock.Now}) // another process
		login := func(name, pw string) error {
			t.Helper()
			_, err := svc.ResolveLogin(f.ctx, tenants.MailboxLogin, name, pw, "192.0.2.7:1000")
			return err
		}
		reason := func(err error) tenants.LoginFailure {
			var le *tenants.LoginError
			if errors.As(err, &le) {
				return le.Reason
			}
			return 0
		}
		hashes := func(want int64) {
			t.Helper()
			if got := svc.HashesRun(); got != want {
				t.Fatalf("hashes run: %d, want %d", got, want)
			}
		}
		for i := 0; i < 3; i++ {
			if err := login("john@a.example", fxPassword); err != nil {
				t.Fatal(err)
			}
		}
		hashes(1)
		// Every name of the account is the same entry.
		if err := login("jo/a.example", fxPassword); err != nil {
			t.Fatal(err)
		}
		hashes(1)
		// A wrong password is never remembered.
		for i := 0; i < 2; i++ {
			if reason(login("john@a.example", "wrong")) != tenants.BadCredentials {
				t.Fatal("wrong password taken")
			}
		}
		hashes(3)
		// A password change in another process voids the entry.
		a := f.addr("john@a.example")
		if _, err := other.UpdateMailbox(f.ctx, tenants.SystemScope("test"), a, tenants.MailboxUpdate{Password: ptrTo(fxPassword2)}); err != nil {
			t.Fatal(err)
		}
		if reason(login("john@a.example", fxPassword)) != tenants.BadCredentials {
			t.Fatal("the old password still logs in after a change")
		}
		hashes(4)
		if err := login("john@a.example", fxPassword2); err != nil {
			t.Fatal(err)
		}
		if err := login("john@a.example", fxPassword2); err != nil {
			t.Fatal(err)
		}
		hashes(5)
		// A hash written behind the credentials version's back, by hand,
		// voids the entry too.
		const third = "Third-pass-word#9x"
		h, err := svc.Hasher().Hash(third)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Write(f.ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE mailboxes SET password_hash = ? WHERE local_part = 'john'", h).Error
		}); err != nil {
			t.Fatal(err)
		}
		if reason(login("john@a.example", fxPassword2)) != tenants.BadCredentials {
			t.Fatal("a remembered password outlived its hash")
		}
		if err := login("john@a.example", third); err != nil {
			t.Fatal(err)
		}
		// A disable or an expiry refuses the remembered password.
		if _, err := other.UpdateMailbox(f.ctx, tenants.SystemScope("test"), a, tenants.MailboxUpdate{Active: ptrTo(false)}); err != nil {
			t.Fatal(err)
		}
		if reason(login("john@a.example", third)) != tenants.Inactive {
			t.Fatal("a disabled mailbox logs in with a remembered password")
		}
		if _, err := other.UpdateMailbox(f.ctx, tenants.SystemScope("test"), a, tenants.MailboxUpdate{Active: ptrTo(true), ExpiresAt: ptrTo(fxT0.Add(-time.Hour))}); err != nil {
			t.Fatal(err)
		}
		if reason(login("john@a.example", third)) != tenants.Expired {
			t.Fatal("an expired mailbox logs in with a remembered password")
		}
	})
}

// TestAuthCacheThrottle: a lock holds for a remembered password too.
func TestAuthCacheThrottle(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		th := tenants.DefaultThrottle()
		svc := tenants.New(db, tenants.Options{Hasher: auth.TestHasher(), Now: f.clock.Now, Throttle: th, Sleep: func(_ context.Context, _ time.Duration) {}})
		const from = "198.51.100.9:4000"
		if _, err := svc.ResolveLogin(f.ctx, tenants.MailboxLogin, "john@a.example", fxPassword, from); err != nil {
			t.Fatal(err)
		}
		for i := int64(0); i <= th.AccountLockAfter; i++ {
			svc.ResolveLogin(f.ctx, tenants.MailboxLogin, "john@a.example", "wrong", from)
		}
		_, err := svc.ResolveLogin(f.ctx, tenants.MailboxLogin, "john@a.example", fxPassword, from)
		var le *tenants.LoginError
		if !errors.As(err, &le) || le.Reason != tenants.Locked {
			t.Fatalf("remembered password from a locked address: %v, want Locked", err)
		}
	})
}

// BenchmarkResolveLogin: a mailbox login with the production hasher
// (argon2id), remembered or not, on SQLite (and PostgreSQL when set).
func BenchmarkResolveLogin(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		for _, cache := range []struct {
			name string
			ttl  time.Duration
		}{{"hash-every-time", -1}, {"auth-cache", 0}} {
			b.Run(string(eng)+"/"+cache.name, func(b *testing.B) {
				db := tenantstest.Open(b, eng)
				svc := tenants.New(db, tenants.Options{AuthCacheTTL: cache.ttl})
				ctx := context.Background()
				sys := tenants.SystemScope("bench")
				d, _ := address.ParseDomain("a.example")
				if _, err := svc.CreateDomain(ctx, sys, d, ""); err != nil {
					b.Fatal(err)
				}
				a, _ := address.ParseAddress("john@a.example")
				if _, err := svc.CreateMailbox(ctx, sys, tenants.NewMailbox{Address: a, Password: fxPassword, Settings: tenants.DefaultMailboxSettings()}); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := svc.ResolveLogin(ctx, tenants.MailboxLogin, "john@a.example", fxPassword, "192.0.2.1:1"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
