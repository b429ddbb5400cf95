package delivery_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestRemoteForwardLimits: a mailbox's remote forwards count against its
// and its domain's send limits, as its submissions do; past them the copy
// stays in the forwarding mailbox (its local forwards still work) and the
// audit log says so once an hour. Without the limits each message from
// anyone to a mailbox with many remote forwards left as many times.
func TestRemoteForwardLimits(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{MailboxPerHour: 3, MailboxPerDay: 100, DomainPerHour: 5, DomainPerDay: 100})
		f.mailbox("john@example.test", nil)
		for _, m := range []string{"fan", "fan2", "fan3", "fan4"} {
			f.mailbox(m+"@example.test", nil)
		}
		f.forwards("fan@example.test", false, "r1@remote.test", "r2@remote.test", "r3@remote.test")
		f.forwards("fan2@example.test", false, "s1@remote.test", "s2@remote.test")
		f.forwards("fan3@example.test", false, "t1@remote.test")
		f.forwards("fan4@example.test", false, "john@example.test", "u1@remote.test")
		send := func(to string) *delivery.Result {
			t.Helper()
			res, err := f.deliver("someone@sender.test", []string{to}, msg("someone@sender.test", to, "hi", ""))
			tcheck(t, err, "deliver to "+to)
			return res
		}

		if res := send("fan@example.test"); res.Queued != 3 || res.Stored != 0 {
			t.Fatalf("within the limit: %+v, want 3 queued, none stored", res)
		}
		// The mailbox's hourly 3 is used up: the copy stays, twice.
		for i := 0; i < 2; i++ {
			if res := send("fan@example.test"); res.Queued != 0 || res.Stored != 1 {
				t.Errorf("past the mailbox limit: %+v, want kept in fan", res)
			}
		}
		if n := f.count("fan@example.test"); n != 2 {
			t.Errorf("fan holds %d, want 2", n)
		}
		if n := f.queuedRcpts(delivery.KindForward); n != 3 {
			t.Errorf("%d forward recipients queued, want 3", n)
		}
		if n := f.audits("forward.rate_limit", "fan@example.test"); n != 1 {
			t.Errorf("%d audit entries, want 1", n)
		}

		// The domain's hourly 5: fan2's two fit, fan3's one does not.
		if res := send("fan2@example.test"); res.Queued != 2 {
			t.Errorf("fan2 within the domain limit: %+v", res)
		}
		if res := send("fan3@example.test"); res.Queued != 0 || f.count("fan3@example.test") != 1 {
			t.Errorf("fan3 past the domain limit: %+v, fan3 holds %d", res, f.count("fan3@example.test"))
		}
		// Past the limit, local forwards still go, and the forwarding
		// mailbox keeps its copy for the remote one.
		if res := send("fan4@example.test"); res.Queued != 0 || f.count("john@example.test") != 1 || f.count("fan4@example.test") != 1 {
			t.Errorf("fan4: %+v, john holds %d, fan4 %d; want 1 each, nothing queued", res, f.count("john@example.test"), f.count("fan4@example.test"))
		}
		if n := f.queuedRcpts(delivery.KindForward); n != 5 {
			t.Errorf("%d forward recipients queued, want 5", n)
		}
		// The counts are the submission limits' own.
		var rows int64
		tcheck(t, db.Read(f.ctx).Table("submission_log").Where("mailbox_id = ?", f.ids["fan@example.test"]).Count(&rows).Error, "submission_log")
		if rows != 1 {
			t.Errorf("%d submission_log rows for fan, want 1", rows)
		}
	})
}

// TestRemoteForwardNeedsMaySend: a mailbox that may not send does not send
// through its remote forwards either; its local forwards still work and
// the copy for the remote ones stays in the mailbox.
func TestRemoteForwardNeedsMaySend(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		f.mailbox("john@example.test", nil)
		f.mailbox("nosend@example.test", func(s *tenants.MailboxSettings) { s.MaySend = false })
		f.forwards("nosend@example.test", false, "john@example.test", "far@remote.test")
		res, err := f.deliver("someone@sender.test", []string{"nosend@example.test"}, msg("someone@sender.test", "nosend@example.test", "hi", ""))
		tcheck(t, err, "deliver")
		if res.Queued != 0 || f.count("nosend@example.test") != 1 || f.count("john@example.test") != 1 {
			t.Errorf("%+v; nosend holds %d, john %d; want nothing queued, one each", res, f.count("nosend@example.test"), f.count("john@example.test"))
		}
		yes := true
		_, err = f.ten.UpdateMailbox(f.ctx, sys, addr("nosend@example.test"), tenants.MailboxUpdate{MaySend: &yes})
		tcheck(t, err, "may send")
		res, err = f.deliver("someone@sender.test", []string{"nosend@example.test"}, msg("someone@sender.test", "nosend@example.test", "hi", ""))
		tcheck(t, err, "deliver")
		if res.Queued != 1 || f.count("nosend@example.test") != 1 {
			t.Errorf("allowed to send: %+v, nosend holds %d", res, f.count("nosend@example.test"))
		}
	})
}

// TestForwardTargetUnusableKeepsCopy: a copy forwarded to a local mailbox
// that is full, disabled or unknown stays in the forwarding mailbox, store
// mail on or off, rather than vanish after the 250.
func TestForwardTargetUnusableKeepsCopy(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		for _, m := range []string{"john", "full", "off", "a", "b", "c", "d", "e", "g", "h", "i"} {
			f.mailbox(m+"@example.test", nil)
		}
		f.fill("full@example.test")
		f.forwards("a@example.test", false, "full@example.test", "john@example.test")
		f.forwards("b@example.test", false, "off@example.test", "john@example.test")
		f.forwards("c@example.test", false, "ghost@example.test", "john@example.test")
		f.forwards("d@example.test", false, "e@example.test")
		f.forwards("e@example.test", false, "full@example.test")
		f.forwards("g@example.test", false, "full@example.test", "far@remote.test")
		f.forwards("h@example.test", false, "full@example.test")
		f.forwards("i@example.test", false, "full@example.test")
		no := false
		_, err := f.ten.UpdateMailbox(f.ctx, sys, addr("off@example.test"), tenants.MailboxUpdate{Active: &no})
		tcheck(t, err, "disable")

		for _, tc := range []struct {
			to   []string
			want map[string]int64 // new messages per mailbox
		}{
			{[]string{"a@example.test"}, map[string]int64{"a": 1, "john": 1}},
			{[]string{"b@example.test"}, map[string]int64{"b": 1, "john": 1}},
			{[]string{"c@example.test"}, map[string]int64{"c": 1, "john": 1}},
			// d -> e -> full: e, the mailbox that forwards to full, keeps it.
			{[]string{"d@example.test"}, map[string]int64{"e": 1}},
			{[]string{"g@example.test"}, map[string]int64{"g": 1}},
			// Two mailboxes forward to full: each keeps its copy.
			{[]string{"h@example.test", "i@example.test"}, map[string]int64{"h": 1, "i": 1}},
		} {
			before := map[string]int64{}
			for m := range f.ids {
				before[m] = f.count(m)
			}
			to := tc.to[0]
			if _, err := f.deliver("someone@sender.test", tc.to, msg("someone@sender.test", to, "to "+to, "")); err != nil {
				t.Errorf("deliver to %v: %v", tc.to, err)
				continue
			}
			for m := range f.ids {
				local := strings.TrimSuffix(m, "@example.test")
				if got := f.count(m) - before[m]; got != tc.want[local] {
					t.Errorf("to %v: %s got %d, want %d", tc.to, m, got, tc.want[local])
				}
			}
		}
		if n := f.queuedRcpts(delivery.KindForward); n != 1 {
			t.Errorf("%d forward recipients queued, want g's 1", n)
		}
		// A full envelope recipient is still refused for now.
		if _, err := f.deliver("someone@sender.test", []string{"full@example.test"}, msg("someone@sender.test", "full@example.test", "full", "")); !errors.Is(err, delivery.ErrMailboxFull) {
			t.Errorf("to a full mailbox: %v, want ErrMailboxFull", err)
		}
	})
}

// TestForwardLongSender: an SRS sender longer than 64 octets is queued,
// and one too long for the queue skips its forward, keeping the copy in
// the mailbox, instead of failing the whole delivery with a 451 that
// would repeat forever.
func TestForwardLongSender(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		f.mailbox("john@example.test", nil)
		f.mailbox("rf@example.test", nil)
		f.forwards("rf@example.test", false, "far@remote.test")

		long := strings.Repeat("l", 64) + "@long-sender-domain.test"
		res, err := f.deliver(long, []string{"rf@example.test"}, msg(long, "rf@example.test", "long", ""))
		tcheck(t, err, "deliver from a long sender")
		qs := f.queued()
		if res.Queued != 1 || len(qs) != 1 || !strings.HasPrefix(qs[0].From, "SRS0=") || strings.IndexByte(qs[0].From, '@') <= 64 {
			t.Fatalf("%+v, queued %+v; want one forward from a long SRS sender", res, qs)
		}
		if f.count("rf@example.test") != 0 {
			t.Errorf("rf kept a forwarded copy")
		}

		// 64 octets at a 189-octet domain: the longest path RFC 5321
		// allows, whose SRS form passes 256 octets.
		dom := strings.Repeat("a", 62) + "." + strings.Repeat("b", 62) + "." + strings.Repeat("c", 58) + ".test"
		longest := strings.Repeat("l", 64) + "@" + dom
		res, err = f.deliver(longest, []string{"rf@example.test", "john@example.test"}, msg(longest, "rf@example.test", "longest", ""))
		tcheck(t, err, "deliver from the longest sender")
		if res.Queued != 0 || f.count("rf@example.test") != 1 || f.count("john@example.test") != 1 {
			t.Errorf("%+v; rf holds %d, john %d; want the forward skipped and kept in rf", res, f.count("rf@example.test"), f.count("john@example.test"))
		}
	})
}
