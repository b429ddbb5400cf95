package tenants_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// wantLoginFailure fails t unless err is a *LoginError with reason.
func wantLoginFailure(t *testing.T, err error, reason tenants.LoginFailure) {
	t.Helper()
	var le *tenants.LoginError
	if !errors.As(err, &le) {
		t.Fatalf("got %v (%T), want a LoginError with reason %d", err, err, reason)
	}
	if le.Reason != reason {
		t.Fatalf("got LoginError reason %d (%v), want %d", le.Reason, le, reason)
	}
}

// loginFixture: a.example with john (alias jo), the alias domain
// alias.example, the IDN domain bücher.example with hans, and an
// administrator.
func loginFixture(t *testing.T, db *database.DB) (*fx, *tenants.Mailbox) {
	t.Helper()
	f := newFx(t, db)
	f.domain("a.example")
	john := f.mailbox("john@a.example")
	f.mailbox("jane@a.example")
	f.alias("jo@a.example", "john@a.example")
	f.aliasDomain("alias.example", "a.example")
	f.domain("bücher.example")
	f.mailbox("hans@bücher.example")
	if pw, err := f.svc.EnsureFirstAdmin(f.ctx, fxPassword); err != nil || pw != fxPassword {
		t.Fatalf("first admin: %q, %v", pw, err)
	}
	return f, john
}

func TestResolveLoginForms(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, john := loginFixture(t, db)
		for _, c := range []struct{ login, own string }{
			{"john@a.example", "john@a.example"},
			{"john/a.example", "john@a.example"},
			{"john%a.example", "john@a.example"},
			{"JOHN@A.EXAMPLE", "john@a.example"},
			{"John/A.Example", "john@a.example"},
			{"  john@a.example  ", "john@a.example"},
			{"jo@a.example", "john@a.example"},
			{"JO%a.example", "john@a.example"},
			{"john@alias.example", "john@a.example"},
			{"jo/alias.example", "john@a.example"},
			{"hans@bücher.example", "hans@xn--bcher-kva.example"},
			{"HANS@BÜCHER.EXAMPLE", "hans@xn--bcher-kva.example"},
			{"hans@xn--bcher-kva.example", "hans@xn--bcher-kva.example"},
		} {
			t.Run(c.login, func(t *testing.T) {
				l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, c.login, fxPassword, "192.0.2.1:4000")
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				if l.Admin != nil || l.Mailbox == nil || l.Domain == nil {
					t.Fatalf("login %+v, want a mailbox login", l)
				}
				if got := l.Address.String(); got != c.own {
					t.Errorf("address %s, want %s", got, c.own)
				}
				if l.Mailbox.DomainID != l.Domain.ID || l.Domain.IsAlias() {
					t.Errorf("domain %+v of mailbox %+v: want the primary domain", l.Domain, l.Mailbox)
				}
				if c.own == "john@a.example" && l.Mailbox.ID != john.ID {
					t.Errorf("mailbox %d, want %d", l.Mailbox.ID, john.ID)
				}
			})
		}
	})
}

func TestResolveLoginAdmin(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		if _, err := f.svc.CreateAdmin(f.ctx, f.sys, "ops", fxPassword2); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"admin", "ops"} {
			pw := map[string]string{"admin": fxPassword, "ops": fxPassword2}[name]
			l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, name, pw, "192.0.2.1:4000")
			if err != nil {
				t.Fatalf("admin %s: %v", name, err)
			}
			if l.Admin == nil || l.Admin.Name != name || l.Mailbox != nil {
				t.Fatalf("admin %s: login %+v", name, l)
			}
			if l.Admin.LastLoginAt == nil || !l.Admin.LastLoginAt.Equal(fxT0) {
				t.Errorf("admin %s: last login %v, want %v", name, l.Admin.LastLoginAt, fxT0)
			}
			if sc := l.ManagerScope("192.0.2.1"); sc.Role != tenants.RoleAdmin || sc.Actor != name || !sc.AllDomains() {
				t.Errorf("admin %s: scope %+v", name, sc)
			}
		}
		_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "admin", fxPassword2, "192.0.2.1:4000")
		wantLoginFailure(t, err, tenants.BadCredentials)
		_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "root", fxPassword, "192.0.2.1:4000")
		wantLoginFailure(t, err, tenants.BadCredentials)
		// An administrator's name is not a mailbox's, nor the other way round.
		_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "admin@a.example", fxPassword, "192.0.2.1:4000")
		wantLoginFailure(t, err, tenants.BadCredentials)
		_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john", fxPassword, "192.0.2.1:4000")
		wantLoginFailure(t, err, tenants.BadCredentials)
	})
}

func TestResolveLoginBadCredentials(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		var msgs []string
		for _, c := range []struct{ name, login, password string }{
			{"wrong password", "john@a.example", fxPassword2},
			{"password case", "john@a.example", strings.ToUpper(fxPassword)},
			{"empty password", "john@a.example", ""},
			{"unknown user", "nobody@a.example", fxPassword},
			{"unknown domain", "john@unknown.example", fxPassword},
			{"wrong password via alias", "jo@a.example", fxPassword2},
			{"empty name", "", fxPassword},
			{"malformed", "john@@", fxPassword},
			{"bad domain", "john@a..example", fxPassword},
			{"over-long name", strings.Repeat("x", 600) + "@a.example", fxPassword},
			{"over-long password", "john@a.example", strings.Repeat("x", 2000)},
		} {
			t.Run(c.name, func(t *testing.T) {
				l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, c.login, c.password, fmt.Sprintf("192.0.2.%d:4000", len(msgs)+1))
				if l != nil {
					t.Errorf("got a login %+v", l)
				}
				wantLoginFailure(t, err, tenants.BadCredentials)
				msgs = append(msgs, err.Error())
			})
		}
		// The text never tells an unknown user from a wrong password.
		for _, m := range msgs {
			if m != msgs[0] {
				t.Errorf("error texts differ: %q and %q", m, msgs[0])
			}
		}
	})
}

func TestResolveLoginInactive(t *testing.T) {
	for _, c := range []struct {
		name    string
		disable func(f *fx)
	}{
		{"mailbox", func(f *fx) { f.update("john@a.example", tenants.MailboxUpdate{Active: ptrTo(false)}) }},
		{"domain", func(f *fx) {
			if _, err := f.svc.UpdateDomain(f.ctx, f.sys, f.dom("a.example"), tenants.DomainUpdate{Active: ptrTo(false)}); err != nil {
				f.t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				f, _ := loginFixture(t, db)
				c.disable(f)
				for _, login := range []string{"john@a.example", "jo@a.example", "john@alias.example"} {
					_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, login, fxPassword, "192.0.2.1:4000")
					wantLoginFailure(t, err, tenants.Inactive)
					_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, login, fxPassword2, "192.0.2.1:4000")
					wantLoginFailure(t, err, tenants.BadCredentials)
				}
				if m := f.read("john@a.example"); m.LastLoginAt != nil {
					t.Errorf("refused login recorded at %v", m.LastLoginAt)
				}
				// Other domains are unaffected.
				if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "hans@bücher.example", fxPassword, "192.0.2.1:4000"); err != nil {
					t.Errorf("hans: %v", err)
				}
			})
		})
	}
}

func TestResolveLoginExpiresAt(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		for _, c := range []struct {
			name    string
			expires time.Time
			want    tenants.LoginFailure // 0: success
		}{
			{"future", fxT0.Add(time.Hour), 0},
			{"now", fxT0, tenants.Expired},
			{"past", fxT0.Add(-time.Hour), tenants.Expired},
		} {
			t.Run(c.name, func(t *testing.T) {
				f.update("john@a.example", tenants.MailboxUpdate{ExpiresAt: &c.expires})
				_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.1:4000")
				if c.want == 0 {
					if err != nil {
						t.Fatalf("login: %v", err)
					}
				} else {
					wantLoginFailure(t, err, c.want)
				}
				_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword2, "192.0.2.1:4000")
				wantLoginFailure(t, err, tenants.BadCredentials)
			})
		}
		// Clearing the expiry lets the mailbox in again.
		f.update("john@a.example", tenants.MailboxUpdate{ClearExpiry: true})
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.1:4000"); err != nil {
			t.Errorf("after clearing the expiry: %v", err)
		}
	})
}

func TestResolveLoginExpireInactiveDays(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		const days = 30
		f.mailbox("idle@a.example", func(nm *tenants.NewMailbox) { nm.Settings.ExpireInactiveDays = days })
		f.mailbox("never@a.example", func(nm *tenants.NewMailbox) { nm.Settings.ExpireInactiveDays = days })
		login := func(name, pw string) error {
			_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, name, pw, "192.0.2.1:4000")
			return err
		}
		if err := login("idle@a.example", fxPassword); err != nil {
			t.Fatalf("first login: %v", err)
		}
		// Exactly the limit after the last login is still allowed, and
		// moves the last login on.
		f.clock.Advance(days * 24 * time.Hour)
		if err := login("idle@a.example", fxPassword); err != nil {
			t.Fatalf("login after %d days: %v", days, err)
		}
		if m := f.read("idle@a.example"); m.LastLoginAt == nil || !m.LastLoginAt.Equal(f.clock.Now()) {
			t.Fatalf("last login %v, want %v", m.LastLoginAt, f.clock.Now())
		}
		f.clock.Advance(days*24*time.Hour + time.Second)
		wantLoginFailure(t, login("idle@a.example", fxPassword), tenants.Expired)
		wantLoginFailure(t, login("idle@a.example", fxPassword2), tenants.BadCredentials)
		// A mailbox never used counts from its creation.
		wantLoginFailure(t, login("never@a.example", fxPassword), tenants.Expired)
		// A mailbox without the limit is unaffected.
		if err := login("john@a.example", fxPassword); err != nil {
			t.Errorf("john: %v", err)
		}
	})
}

func TestResolveLoginRecordsLastLogin(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		if m := f.read("john@a.example"); m.LastLoginAt != nil {
			t.Fatalf("new mailbox has a last login %v", m.LastLoginAt)
		}
		f.clock.Advance(90 * time.Minute)
		l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "jo@alias.example", fxPassword, "192.0.2.1:4000")
		if err != nil {
			t.Fatal(err)
		}
		want := fxT0.Add(90 * time.Minute)
		if l.Mailbox.LastLoginAt == nil || !l.Mailbox.LastLoginAt.Equal(want) {
			t.Errorf("login's last login %v, want %v", l.Mailbox.LastLoginAt, want)
		}
		if m := f.read("john@a.example"); m.LastLoginAt == nil || !m.LastLoginAt.Equal(want) {
			t.Errorf("stored last login %v, want %v", m.LastLoginAt, want)
		}
		// A failed login leaves it.
		f.clock.Advance(time.Hour)
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword2, "192.0.2.1:4000"); err == nil {
			t.Fatal("wrong password accepted")
		}
		if m := f.read("john@a.example"); !m.LastLoginAt.Equal(want) {
			t.Errorf("failed login moved last login to %v", m.LastLoginAt)
		}
	})
}

func TestResolveLoginRehashesImportedHash(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		h, err := bcrypt.GenerateFromPassword([]byte(fxPassword2), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		f.mailbox("old@a.example", func(nm *tenants.NewMailbox) {
			nm.Password, nm.PasswordHash = "", "{BLF-CRYPT}"+string(h)
		})
		if got := f.read("old@a.example").PasswordHash; got != string(h) {
			t.Fatalf("stored hash %q, want the bare bcrypt hash %q", got, h)
		}
		// A wrong password neither logs in nor rehashes.
		_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "old@a.example", fxPassword, "192.0.2.1:4000")
		wantLoginFailure(t, err, tenants.BadCredentials)
		if got := f.read("old@a.example").PasswordHash; got != string(h) {
			t.Fatalf("hash changed by a failed login: %q", got)
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "old@a.example", fxPassword2, "192.0.2.1:4000"); err != nil {
			t.Fatalf("login with imported hash: %v", err)
		}
		rehashed := f.read("old@a.example").PasswordHash
		if !strings.HasPrefix(rehashed, "$argon2id$") {
			t.Fatalf("hash after login %q, want $argon2id$", rehashed)
		}
		if strings.Contains(rehashed, fxPassword2) {
			t.Fatalf("hash holds the password")
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "old@a.example", fxPassword2, "192.0.2.1:4000"); err != nil {
			t.Fatalf("login with the new hash: %v", err)
		}
		if got := f.read("old@a.example").PasswordHash; got != rehashed {
			t.Errorf("a current hash was rehashed again")
		}
		_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "old@a.example", fxPassword, "192.0.2.1:4000")
		wantLoginFailure(t, err, tenants.BadCredentials)
	})
}

// failLogins makes n failed logins as name from remote (or from a different
// address each time when remote is "").
func failLogins(t *testing.T, svc *tenants.Service, f *fx, name, remote string, n int) {
	t.Helper()
	for i := range n {
		r := remote
		if r == "" {
			r = fmt.Sprintf("198.51.100.%d:5000", i+1)
		}
		_, err := svc.ResolveLogin(f.ctx, tenants.PanelLogin, name, fmt.Sprintf("wrong-%d", i), r)
		wantLoginFailure(t, err, tenants.BadCredentials)
	}
}

func TestLoginThrottleLocksAccount(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		th := tenants.DefaultThrottle()
		failLogins(t, f.svc, f, "john@a.example", "203.0.113.9:7", int(th.AccountLockAfter))

		// Locked for the right password too, in every spelling, from the
		// guessing address, and for a second service on the same database.
		other := tenantstest.Service(db, f.clock.Now)
		for _, c := range []struct {
			svc            *tenants.Service
			name, password string
		}{
			{f.svc, "john@a.example", fxPassword},
			{f.svc, "john@a.example", "wrong"},
			{f.svc, "JOHN/A.EXAMPLE", fxPassword},
			{f.svc, "john%a.example", fxPassword},
			{other, "john@a.example", fxPassword},
		} {
			_, err := c.svc.ResolveLogin(f.ctx, tenants.PanelLogin, c.name, c.password, "203.0.113.9:1")
			wantLoginFailure(t, err, tenants.Locked)
		}
		// Other accounts are not locked, nor is john from an address that
		// has not failed: a stranger's guesses don't lock the owner out.
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "jane@a.example", fxPassword, "203.0.113.9:1"); err != nil {
			t.Errorf("jane: %v", err)
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "198.51.100.200:1"); err != nil {
			t.Errorf("john from another address: %v", err)
		}
		f.clock.Advance(th.LockFor - time.Second)
		_, err := other.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "203.0.113.9:1")
		wantLoginFailure(t, err, tenants.Locked)
		f.clock.Advance(2 * time.Second)
		if _, err := other.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "203.0.113.9:1"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		// The lock is gone, and so is the count: one more failure does not lock.
		failLogins(t, f.svc, f, "john@a.example", "203.0.113.9:7", 1)
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "203.0.113.9:1"); err != nil {
			t.Errorf("after one more failure: %v", err)
		}
	})
}

func TestLoginThrottleLocksUnknownAccountsAndAdmins(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		n := int(tenants.DefaultThrottle().AccountLockAfter)
		failLogins(t, f.svc, f, "admin", "203.0.113.9:2", n)
		_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "admin", fxPassword, "203.0.113.9:1")
		wantLoginFailure(t, err, tenants.Locked)
		// An unknown account locks like a known one, so a lock tells
		// nothing about whether it exists.
		failLogins(t, f.svc, f, "ghost@a.example", "203.0.113.9:2", n)
		_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "ghost@a.example", fxPassword, "203.0.113.9:1")
		wantLoginFailure(t, err, tenants.Locked)
		// An administrator unlocks.
		if err := f.svc.Unlock(f.ctx, adminScope(), "admin", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "admin", fxPassword, "203.0.113.9:1"); err != nil {
			t.Errorf("after unlock: %v", err)
		}
	})
}

func TestLoginThrottleSuccessClearsAccountCount(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		n := int(tenants.DefaultThrottle().AccountLockAfter) - 1
		for round := range 3 {
			failLogins(t, f.svc, f, "john@a.example", "203.0.113.9:1", n)
			if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "203.0.113.9:1"); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	})
}

func TestLoginThrottleForgetsOldFailures(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		th := tenants.DefaultThrottle()
		n := int(th.AccountLockAfter) - 1
		failLogins(t, f.svc, f, "john@a.example", "203.0.113.9:1", n)
		f.clock.Advance(th.Window + time.Minute)
		failLogins(t, f.svc, f, "john@a.example", "203.0.113.9:1", n)
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "203.0.113.9:1"); err != nil {
			t.Errorf("failures older than the window still counted: %v", err)
		}
	})
}

func TestLoginThrottleLocksAddress(t *testing.T) {
	for _, c := range []struct {
		name      string
		attackers []string // remote addresses of the failures, used in turn
		same      string   // another address in the locked group
		other     string   // an address outside it
	}{
		{"ipv4", []string{"192.0.2.66:1000", "192.0.2.66:2000", "[::ffff:192.0.2.66]:3000", "192.0.2.66"}, "192.0.2.66:4000", "192.0.2.67:4000"},
		{"ipv6 /64", []string{"[2001:db8:1:2::1]:993", "[2001:db8:1:2::2]:993", "[2001:db8:1:2:ffff::9]:110"}, "[2001:db8:1:2:abcd::1]:25", "[2001:db8:1:3::1]:25"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				f, _ := loginFixture(t, db)
				th := tenants.DefaultThrottle()
				// Each failure names another account, so no account lock
				// is reached: only the address's count is.
				for i := range int(th.AddressLockAfter) {
					name := fmt.Sprintf("guess%d@a.example", i)
					if i%10 == 0 {
						name = "john@a.example"
					}
					_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, name, "wrong", c.attackers[i%len(c.attackers)])
					wantLoginFailure(t, err, tenants.BadCredentials)
				}
				for _, name := range []string{"john@a.example", "jane@a.example", "admin"} {
					pw := fxPassword
					_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, name, pw, c.same)
					wantLoginFailure(t, err, tenants.Locked)
				}
				second := tenantstest.Service(db, f.clock.Now)
				_, err := second.ResolveLogin(f.ctx, tenants.PanelLogin, "jane@a.example", fxPassword, c.same)
				wantLoginFailure(t, err, tenants.Locked)
				// Other addresses, and the accounts themselves, are not locked.
				if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "jane@a.example", fxPassword, c.other); err != nil {
					t.Errorf("jane from another address: %v", err)
				}
				if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, c.other); err != nil {
					t.Errorf("john from another address: %v", err)
				}
				f.clock.Advance(th.LockFor + time.Second)
				if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "jane@a.example", fxPassword, c.same); err != nil {
					t.Errorf("after the lock: %v", err)
				}
			})
		})
	}
}

func TestLoginThrottleUnlockAddress(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		for i := range int(tenants.DefaultThrottle().AddressLockAfter) {
			_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, fmt.Sprintf("g%d@a.example", i), "wrong", "192.0.2.99:1")
			wantLoginFailure(t, err, tenants.BadCredentials)
		}
		_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.99:2")
		wantLoginFailure(t, err, tenants.Locked)
		if err := f.svc.Unlock(f.ctx, f.sys, "", "192.0.2.99"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.99:2"); err != nil {
			t.Errorf("after unlock: %v", err)
		}
	})
}

// TestLoginLockCoversAliasesAndAliasDomains: the account lock belongs to
// the mailbox, not to the name typed, so aliases and alias domains give an
// attacker no extra guesses, and a locked mailbox does not log in through
// an alias.
func TestLoginLockCoversAliasesAndAliasDomains(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		t.Run("locked mailbox through an alias", func(t *testing.T) {
			f, _ := loginFixture(t, db)
			failLogins(t, f.svc, f, "john@a.example", "203.0.113.9:5", int(tenants.DefaultThrottle().AccountLockAfter))
			for _, name := range []string{"jo@a.example", "john@alias.example", "jo/alias.example"} {
				_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, name, fxPassword, "203.0.113.9:1")
				var le *tenants.LoginError
				if !errors.As(err, &le) || le.Reason != tenants.Locked {
					t.Errorf("%s logs into locked john@a.example: err %v", name, err)
				}
			}
		})
		t.Run("guesses spread over aliases", func(t *testing.T) {
			f := newFx(t, tenantstest.Open(t, db.Dialect()))
			f.domain("a.example")
			f.mailbox("john@a.example")
			f.alias("jo@a.example", "john@a.example")
			f.aliasDomain("alias.example", "a.example")
			names := []string{"john@a.example", "jo@a.example", "john@alias.example", "jo@alias.example"}
			for i := range int(tenants.DefaultThrottle().AccountLockAfter) {
				_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, names[i%len(names)], "wrong", fmt.Sprintf("203.0.113.9:%d", i+1))
				wantLoginFailure(t, err, tenants.BadCredentials)
			}
			_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "203.0.113.9:1")
			var le *tenants.LoginError
			if !errors.As(err, &le) || le.Reason != tenants.Locked {
				t.Errorf("10 failures spread over the names of one mailbox did not lock it: err %v", err)
			}
		})
	})
}

// TestUnlockAcceptsEveryLoginForm: Unlock finds the account as ResolveLogin
// does, so any login form of it (U-label domain, '/', an alias) unlocks it.
func TestUnlockAcceptsEveryLoginForm(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		n := int(tenants.DefaultThrottle().AccountLockAfter)
		for _, c := range []struct{ login, unlock string }{
			{"hans@bücher.example", "hans@bücher.example"},
			{"john@a.example", "john/a.example"},
			{"jane@a.example", "JANE%A.EXAMPLE"},
			{"john@alias.example", "jo@a.example"},
		} {
			failLogins(t, f.svc, f, c.login, "203.0.113.9:3", n)
			if err := f.svc.Unlock(f.ctx, f.sys, c.unlock, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, c.login, fxPassword, "203.0.113.9:1"); err != nil {
				t.Errorf("Unlock(%q) left %s locked: %v", c.unlock, c.login, err)
			}
		}
	})
}

// TestLoginThrottleConcurrentFailures: failures that arrive at once, through
// separate services as from separate processes, all count.
func TestLoginThrottleConcurrentFailures(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		n := int(tenants.DefaultThrottle().AccountLockAfter)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc := tenantstest.Service(db, f.clock.Now)
				<-start
				_, errs[i] = svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", "wrong", fmt.Sprintf("203.0.113.9:%d", i+1))
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			wantLoginFailure(t, err, tenants.BadCredentials)
		}
		_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "203.0.113.9:1")
		wantLoginFailure(t, err, tenants.Locked)
	})
}
