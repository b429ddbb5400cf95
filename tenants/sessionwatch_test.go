package tenants_test

import (
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSessionWatch: a check ends the sessions of a mailbox disabled,
// expired, removed or whose password changed (through another service on
// the database, as from another process), and only those.
func TestSessionWatch(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		f.mailbox("exp@a.example")
		f.mailbox("gone@a.example")
		w := f.svc.NewSessionWatch()
		ended := map[string]*atomic.Int32{}
		watch := func(name string) {
			l, err := f.svc.ResolveLogin(f.ctx, tenants.MailboxLogin, name, fxPassword, "192.0.2.1:1")
			tcheck(t, err, "login "+name)
			n := ended[name]
			if n == nil {
				n = &atomic.Int32{}
				ended[name] = n
			}
			w.Watch(l, func() { n.Add(1) })
		}
		for _, n := range []string{"john@a.example", "john@a.example", "jane@a.example", "hans@bücher.example", "exp@a.example", "gone@a.example"} {
			watch(n)
		}
		tcheck(t, w.Check(f.ctx), "check")
		for n, c := range ended {
			if c.Load() != 0 {
				t.Fatalf("%s ended with nothing changed", n)
			}
		}
		other := tenantstest.Service(db, f.clock.Now)
		_, err := other.UpdateMailbox(f.ctx, f.sys, f.addr("john@a.example"), tenants.MailboxUpdate{Active: ptrTo(false)})
		tcheck(t, err, "disable")
		_, err = other.UpdateMailbox(f.ctx, f.sys, f.addr("jane@a.example"), tenants.MailboxUpdate{Password: ptrTo(fxPassword2)})
		tcheck(t, err, "password")
		_, err = other.UpdateMailbox(f.ctx, f.sys, f.addr("exp@a.example"), tenants.MailboxUpdate{ExpiresAt: ptrTo(fxT0.Add(time.Minute))})
		tcheck(t, err, "expiry")
		tcheck(t, other.DeleteMailbox(f.ctx, f.sys, f.addr("gone@a.example")), "remove")
		f.clock.Advance(2 * time.Minute)
		tcheck(t, w.Check(f.ctx), "check")
		for n, want := range map[string]int32{"john@a.example": 2, "jane@a.example": 1, "exp@a.example": 1, "gone@a.example": 1, "hans@bücher.example": 0} {
			if got := ended[n].Load(); got != want {
				t.Errorf("%s: ended %d times, want %d", n, got, want)
			}
		}
		if w.Open() != 1 {
			t.Errorf("%d sessions watched, want hans's alone", w.Open())
		}
		// jane logs in with the new password: that session holds.
		l, err := f.svc.ResolveLogin(f.ctx, tenants.MailboxLogin, "jane@a.example", fxPassword2, "192.0.2.1:1")
		tcheck(t, err, "login")
		stop := w.Watch(l, func() { t.Error("jane's new session ended") })
		tcheck(t, w.Check(f.ctx), "check")
		stop()
		if w.Open() != 1 {
			t.Errorf("%d sessions watched after stop, want 1", w.Open())
		}
	})
}

// TestSessionWatchCost: a check of 1,000 open sessions costs one query for
// their mailboxes and one for their domains, not one per session.
func TestSessionWatchCost(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		w := f.svc.NewSessionWatch()
		var logins []*tenants.Login
		for _, n := range []string{"john@a.example", "jane@a.example", "hans@bücher.example"} {
			l, err := f.svc.ResolveLogin(f.ctx, tenants.MailboxLogin, n, fxPassword, "192.0.2.1:1")
			tcheck(t, err, "login "+n)
			logins = append(logins, l)
		}
		for i := range 1000 {
			w.Watch(logins[i%len(logins)], func() { t.Error("a session ended with nothing changed") })
		}
		var queries atomic.Int32
		g := db.Read(f.ctx)
		tcheck(t, g.Callback().Query().After("gorm:query").Register("count_session_checks", func(*gorm.DB) { queries.Add(1) }), "callback")
		t.Cleanup(func() { g.Callback().Query().Remove("count_session_checks") })
		tcheck(t, w.Check(f.ctx), "check")
		if n := queries.Load(); n != 2 {
			t.Errorf("a check of 1,000 sessions made %d queries, want 2", n)
		}
	})
}
