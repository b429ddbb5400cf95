package tenants_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/auth"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestResolveLoginAnswers is the table of what a refusal may say (issue 11
// item 8): an unknown name, an administrator's name at a mailbox login and
// a wrong password all get BadCredentials, each counted as a failure and
// delayed like the others (the delay asked for is the same for each case's
// FreeFailures+1st attempt); a disabled or expired mailbox is named only
// after the right password.
func TestResolveLoginAnswers(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		f.mailbox("off@a.example")
		f.update("off@a.example", tenants.MailboxUpdate{Active: ptrTo(false)})
		f.mailbox("old@a.example")
		f.update("old@a.example", tenants.MailboxUpdate{ExpiresAt: ptrTo(fxT0.Add(-time.Hour))})

		th := tenants.DefaultThrottle()
		var mu sync.Mutex
		var delays []time.Duration
		svc := tenants.New(db, tenants.Options{Hasher: auth.TestHasher(), Now: f.clock.Now, Throttle: th,
			Sleep: func(_ context.Context, d time.Duration) { mu.Lock(); delays = append(delays, d); mu.Unlock() }})

		for i, c := range []struct {
			what           string
			kind           tenants.LoginKind
			name, password string
			want           tenants.LoginFailure // 0: logged in
		}{
			{"unknown name", tenants.MailboxLogin, "ghost@a.example", fxPassword, tenants.BadCredentials},
			{"unknown domain", tenants.MailboxLogin, "john@nowhere.example", fxPassword, tenants.BadCredentials},
			{"wrong password", tenants.MailboxLogin, "john@a.example", "wrong", tenants.BadCredentials},
			{"admin name, right password, mail login", tenants.MailboxLogin, "admin", fxPassword, tenants.BadCredentials},
			{"admin name, wrong password, mail login", tenants.MailboxLogin, "admin", "wrong", tenants.BadCredentials},
			{"unknown bare name, mail login", tenants.MailboxLogin, "nobody", fxPassword, tenants.BadCredentials},
			{"disabled, wrong password", tenants.MailboxLogin, "off@a.example", "wrong", tenants.BadCredentials},
			{"expired, wrong password", tenants.MailboxLogin, "old@a.example", "wrong", tenants.BadCredentials},
			{"disabled, right password", tenants.MailboxLogin, "off@a.example", fxPassword, tenants.Inactive},
			{"expired, right password", tenants.MailboxLogin, "old@a.example", fxPassword, tenants.Expired},
			{"disabled, right password, panel", tenants.PanelLogin, "off@a.example", fxPassword, tenants.Inactive},
			{"admin, wrong password, panel", tenants.PanelLogin, "admin", "wrong", tenants.BadCredentials},
			{"admin, right password, panel", tenants.PanelLogin, "admin", fxPassword, 0},
			{"mailbox, right password", tenants.MailboxLogin, "john@a.example", fxPassword, 0},
		} {
			t.Run(c.what, func(t *testing.T) {
				// A fresh address each case, earlier failures forgotten,
				// attempts past the free ones: every refusal must have
				// been counted to earn the delay.
				f.clock.Advance(th.Window + time.Minute)
				remote := fmt.Sprintf("198.51.100.%d:1", 100+i)
				n := int(th.FreeFailures) + 1
				if c.want == 0 {
					n = 1
				}
				mu.Lock()
				delays = nil
				mu.Unlock()
				var err error
				for range n {
					_, err = svc.ResolveLogin(f.ctx, c.kind, c.name, c.password, remote)
				}
				if c.want == 0 {
					if err != nil {
						t.Fatalf("login: %v", err)
					}
					return
				}
				wantLoginFailure(t, err, c.want)
				mu.Lock()
				defer mu.Unlock()
				if len(delays) != n || delays[n-1] != th.BaseDelay {
					t.Errorf("delays %v, want %d with the last %v", delays, n, th.BaseDelay)
				}
			})
		}
	})
}

// TestMailLoginNeverTouchesAdmin: wrong guesses of an administrator's name
// over IMAP, POP3 or SMTP (a MailboxLogin) neither lock the administrator
// out of the panel, even from the guessing address, nor does the right
// password there clear or confirm anything.
func TestMailLoginNeverTouchesAdmin(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		n := int(tenants.DefaultThrottle().AccountLockAfter) + 1
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.ResolveLogin(f.ctx, tenants.MailboxLogin, "admin", fmt.Sprintf("x%d", i), "192.0.2.50:1")
				if le, ok := err.(*tenants.LoginError); !ok || (le.Reason != tenants.BadCredentials && le.Reason != tenants.Locked) {
					t.Errorf("mail login as admin: %v", err)
				}
			}()
		}
		wg.Wait()
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "admin", fxPassword, "192.0.2.50:2"); err != nil {
			t.Fatalf("panel sign-in of the admin after mail guesses: %v", err)
		}
	})
}

// TestUnlockLoginFromAddress: `postdesk unlock LOGIN --ip ADDR` lifts the
// lock of the account from that address, leaving its locks from other
// addresses; without --ip every lock of the account goes.
func TestUnlockLoginFromAddress(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		n := int(tenants.DefaultThrottle().AccountLockAfter)
		failLogins(t, f.svc, f, "john@a.example", "192.0.2.1:1", n)
		failLogins(t, f.svc, f, "john@a.example", "192.0.2.2:1", n)
		if err := f.svc.Unlock(f.ctx, f.sys, "john@a.example", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.1:9"); err != nil {
			t.Errorf("after unlock --ip: %v", err)
		}
		_, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.2:9")
		wantLoginFailure(t, err, tenants.Locked)
		if err := f.svc.Unlock(f.ctx, f.sys, "JOHN/a.example", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.2:9"); err != nil {
			t.Errorf("after unlock: %v", err)
		}
		if err := f.svc.Unlock(f.ctx, f.sys, "john@a.example", "not-an-ip"); err == nil {
			t.Error("unlock took a bad address")
		}
	})
}
