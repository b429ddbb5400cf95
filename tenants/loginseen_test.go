package tenants_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestLoginsSeen: each protocol and address is one row however many
// logins it makes; rows unseen for 30 days go; a user sees their own
// only. Ending one's protocol sessions ends those logged in before, not
// later ones.
func TestLoginsSeen(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		login := func(k tenants.LoginKind, remote string) *tenants.Login {
			t.Helper()
			l, err := f.svc.ResolveLogin(f.ctx, k, "john@a.example", fxPassword, remote)
			tcheck(t, err, "login")
			return l
		}
		for range 3 {
			login(tenants.IMAPLogin, "192.0.2.1:1000")
		}
		login(tenants.POP3Login, "192.0.2.1:1001")
		login(tenants.PanelLogin, "[2001:db8::1]:443")
		john := f.addr("john@a.example")
		seen, err := f.svc.RecentLogins(f.ctx, f.sys, john)
		tcheck(t, err, "recent")
		got := map[string]int64{}
		for _, s := range seen {
			got[s.Protocol+" "+s.RemoteAddr] = s.Logins
		}
		if len(got) != 3 || got["imap 192.0.2.1"] != 3 || got["pop3 192.0.2.1"] != 1 || got["panel 2001:db8::1"] != 1 {
			t.Fatalf("seen %v", got)
		}
		f.clock.Advance(31 * 24 * time.Hour)
		login(tenants.SMTPLogin, "192.0.2.2:25")
		seen, err = f.svc.RecentLogins(f.ctx, f.sys, john)
		tcheck(t, err, "recent")
		if len(seen) != 1 || seen[0].Protocol != "smtp" {
			t.Fatalf("after 31 days: %+v", seen)
		}
		jane, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "jane@a.example", fxPassword, "")
		tcheck(t, err, "jane")
		if _, err := f.svc.RecentLogins(f.ctx, jane.UserScope(""), john); err == nil {
			t.Fatal("jane reads john's logins")
		}
		if err := f.svc.EndProtocolSessions(f.ctx, jane.UserScope(""), john); err == nil {
			t.Fatal("jane ends john's sessions")
		}

		w := f.svc.NewSessionWatch()
		var before, after atomic.Int32
		w.Watch(login(tenants.IMAPLogin, "192.0.2.1:1"), func() { before.Add(1) })
		f.clock.Advance(time.Second)
		l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "")
		tcheck(t, err, "john")
		tcheck(t, f.svc.EndProtocolSessions(f.ctx, l.UserScope(""), john), "end")
		f.clock.Advance(time.Second)
		w.Watch(login(tenants.IMAPLogin, "192.0.2.1:2"), func() { after.Add(1) })
		tcheck(t, w.Check(f.ctx), "check")
		if before.Load() != 1 || after.Load() != 0 || w.Open() != 1 {
			t.Fatalf("ended: before %d, after %d, open %d", before.Load(), after.Load(), w.Open())
		}
	})
}
