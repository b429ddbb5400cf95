package tenants_test

import (
	"errors"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestBounceForwarder: a bounce to an SRS address is returned through its
// mailbox only while the mailbox exists, it and its domain are active and
// not expired, it may send and it forwards to another server.
func TestBounceForwarder(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := forwardFixture(t, db)
		a := f.mailbox("fw@a.example")
		check := func(what string, want error) {
			t.Helper()
			tg, err := f.svc.BounceForwarder(f.ctx, a.ID)
			switch {
			case want == nil && (err != nil || tg.MailboxID != a.ID || tg.Address.String() != "fw@a.example"):
				t.Errorf("%s: %+v, %v; want the mailbox", what, tg, err)
			case want != nil && !errors.Is(err, want):
				t.Errorf("%s: %v, want %v", what, err, want)
			}
		}
		check("no forward", tenants.ErrForbidden)
		if err := f.setForwards("fw@a.example", true, "c@a.example"); err != nil {
			t.Fatal(err)
		}
		check("local forward only", tenants.ErrForbidden)
		if err := f.setForwards("fw@a.example", false, "c@a.example", "far@remote.example"); err != nil {
			t.Fatal(err)
		}
		check("remote forward", nil)
		yes, no := true, false
		past := fxT0.Add(-1)
		for _, tc := range []struct {
			what     string
			do, undo tenants.MailboxUpdate
			want     error
		}{
			{"may not send", tenants.MailboxUpdate{MaySend: &no}, tenants.MailboxUpdate{MaySend: &yes}, tenants.ErrForbidden},
			{"disabled", tenants.MailboxUpdate{Active: &no}, tenants.MailboxUpdate{Active: &yes}, tenants.ErrDisabled},
			{"expired", tenants.MailboxUpdate{ExpiresAt: &past}, tenants.MailboxUpdate{ClearExpiry: true}, tenants.ErrDisabled},
		} {
			if _, err := f.svc.UpdateMailbox(f.ctx, f.sys, f.addr("fw@a.example"), tc.do); err != nil {
				t.Fatal(err)
			}
			check(tc.what, tc.want)
			if _, err := f.svc.UpdateMailbox(f.ctx, f.sys, f.addr("fw@a.example"), tc.undo); err != nil {
				t.Fatal(err)
			}
			check("after "+tc.what, nil)
		}
		if _, err := f.svc.UpdateDomain(f.ctx, f.sys, "a.example", tenants.DomainUpdate{Active: &no}); err != nil {
			t.Fatal(err)
		}
		check("domain disabled", tenants.ErrDisabled)
		if _, err := f.svc.UpdateDomain(f.ctx, f.sys, "a.example", tenants.DomainUpdate{Active: &yes}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteMailbox(f.ctx, f.sys, f.addr("fw@a.example")); err != nil {
			t.Fatal(err)
		}
		check("deleted", tenants.ErrNoSuchUser)
	})
}
