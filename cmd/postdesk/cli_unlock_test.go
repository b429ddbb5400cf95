package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestCLIUnlock: `postdesk unlock LOGIN --ip ADDR` lifts the lock of the
// account from that address, `postdesk unlock LOGIN` every lock of it.
func TestCLIUnlock(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			e := newCLIEnv(t, eng)
			e.ok("domain", "add", "example.test")
			e.ok("mailbox", "add", "john@example.test", "--password", pw)
			cfg := database.Config{DataDir: e.flag[len(e.flag)-1]}
			if eng == database.Postgres {
				cfg.URL = e.flag[1]
			}
			ctx := context.Background()
			db, err := database.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ts := tenants.New(db, tenants.Options{Sleep: func(context.Context, time.Duration) {}})
			locked := func(remote string) bool {
				t.Helper()
				_, err := ts.ResolveLogin(ctx, tenants.MailboxLogin, "john@example.test", pw, remote)
				var le *tenants.LoginError
				if err != nil && !(errors.As(err, &le) && le.Reason == tenants.Locked) {
					t.Fatalf("login from %s: %v", remote, err)
				}
				return err != nil
			}
			for _, from := range []string{"192.0.2.1:1", "192.0.2.2:1"} {
				for range tenants.DefaultThrottle().AccountLockAfter {
					ts.ResolveLogin(ctx, tenants.MailboxLogin, "john@example.test", "wrong", from)
				}
				if !locked(from) {
					t.Fatalf("not locked from %s", from)
				}
			}
			e.fails("usage", "unlock")
			e.fails("not an IP address", "unlock", "john@example.test", "--ip", "nowhere")
			e.ok("unlock", "john@example.test", "--ip", "192.0.2.1")
			if locked("192.0.2.1:9") || !locked("192.0.2.2:9") {
				t.Fatal("unlock --ip lifted the wrong locks")
			}
			e.ok("unlock", "JOHN/example.test")
			if locked("192.0.2.2:9") {
				t.Fatal("still locked after unlock")
			}
		})
	}
}
