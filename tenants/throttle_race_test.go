package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestThrottleParallelBurst: a burst of parallel guesses can't slip under
// the lock. Every attempt claims a check slot before its password is
// checked, so at most AccountLockAfter of 40 parallel wrong guesses are
// checked at all; the rest are refused as locked, and so is the right
// password after, from that address.
func TestThrottleParallelBurst(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := tenantstest.Service(db, func() time.Time { return now })
		sc := tenants.SystemScope("test")
		_, err := s.CreateDomain(ctx, sc, dom(t, "example.test"), "")
		tcheck(t, err, "domain")
		_, err = s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, "john@example.test"), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox")
		var mu sync.Mutex
		checked, locked, ok := 0, 0, 0
		var wg sync.WaitGroup
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pw := "wrong-Password-99"
				_, err := s.ResolveLogin(ctx, tenants.PanelLogin, "john@example.test", pw, "192.0.2.7:1234")
				mu.Lock()
				defer mu.Unlock()
				var le *tenants.LoginError
				switch {
				case err == nil:
					ok++
				case errors.As(err, &le) && le.Reason == tenants.Locked:
					locked++
				case errors.As(err, &le) && le.Reason == tenants.BadCredentials:
					checked++
				default:
					t.Errorf("attempt %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if limit := int(tenants.DefaultThrottle().AccountLockAfter); checked+ok > limit {
			t.Fatalf("%d attempts were checked (%d wrong, %d right), more than the lock's %d", checked+ok, checked, ok, limit)
		}
		if locked < 30 {
			t.Fatalf("only %d of 40 attempts refused as locked", locked)
		}
		if _, err := s.ResolveLogin(ctx, tenants.PanelLogin, "john@example.test", testPassword, "192.0.2.7:99"); err == nil {
			t.Fatal("the account is not locked for the guessing address after the burst")
		}
		// The owner, from an address that has not failed, still logs in.
		if _, err := s.ResolveLogin(ctx, tenants.PanelLogin, "john@example.test", testPassword, "198.51.100.1:1"); err != nil {
			t.Fatalf("the owner from another address: %v", err)
		}
	})
}

// TestThrottleParallelRightPasswords: logins in flight are not failures.
// 16 parallel logins with the right password from one address (a client
// opening several connections, a webmail host) all succeed, though the
// account locks an address after 10 failures; so do 60 logins of
// different accounts from one address, past the address's 50.
func TestThrottleParallelRightPasswords(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := tenantstest.Service(db, func() time.Time { return now })
		sc := tenants.SystemScope("test")
		_, err := s.CreateDomain(ctx, sc, dom(t, "example.test"), "")
		tcheck(t, err, "domain")
		names := make([]string, 6)
		for i := range names {
			names[i] = fmt.Sprintf("u%d@example.test", i)
			_, err = s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, names[i]), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
			tcheck(t, err, "mailbox")
		}
		for _, c := range []struct {
			what  string
			n     int
			names []string
		}{
			{"one account", 16, names[:1]},
			{"many accounts", 60, names},
		} {
			var wg sync.WaitGroup
			errs := make([]error, c.n)
			for i := range c.n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// A service each, as from separate processes.
					svc := tenantstest.Service(db, func() time.Time { return now })
					_, errs[i] = svc.ResolveLogin(ctx, tenants.MailboxLogin, c.names[i%len(c.names)], testPassword, "192.0.2.8:1")
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("%s: login %d: %v", c.what, i, err)
				}
			}
		}
	})
}
