package smtpd_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/greylist"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// clock is a test clock the greylist and the server share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestGreylisting: a new triplet gets 451 4.7.1 at RCPT, again before the
// delay, and passes after it; a passed triplet passes at once; another
// recipient is a new triplet; submission is never greylisted; nothing is
// stored for a refused attempt.
func TestGreylisting(t *testing.T) {
	c := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	forEachWith(t, func(t *testing.T, e *env) {
		attempt := func(to string) error {
			return send(e.mx, "a@sender.test", []string{to}, msg("a@sender.test", to, "hi", ""))
		}
		wantGrey := func(err error, what string) {
			t.Helper()
			se, ok := err.(*smtp.SMTPError)
			if !ok || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 7, 1}) {
				t.Errorf("%s: %v, want 451 4.7.1", what, err)
			}
		}
		wantGrey(attempt("john@example.test"), "first attempt")
		c.add(2 * time.Minute)
		wantGrey(attempt("john@example.test"), "retry before the delay")
		c.add(4 * time.Minute)
		tcheck(t, attempt("john@example.test"), "retry after the delay")
		tcheck(t, attempt("john@example.test"), "a passed triplet")
		wantGrey(attempt("sales@example.test"), "another recipient")
		if n := len(e.stored("john@example.test")); n != 2 {
			t.Errorf("john holds %d, want 2 (the refused attempts stored nothing)", n)
		}
		sc := e.submitClient(t, "john@example.test")
		tcheck(t, sendOn(sc, "john@example.test", []string{"ann@example.test"}, msg("john@example.test", "ann@example.test", "inside", "")), "submission")
	}, envOptions{now: c.now, greylist: &greylist.Options{Delay: 5 * time.Minute, IncludeLoopback: true, Now: c.now}})
}

// TestGreylistBound: the table holds at most MaxTriplets; past it a new
// triplet passes unstored. Expired triplets make room again. Loopback
// clients are not greylisted unless asked.
func TestGreylistBound(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		g := greylist.New(db, greylist.Options{MaxTriplets: 3, Now: c.now})
		ip := mustAddr("192.0.2.7")
		for i, rcpt := range []string{"a@x.test", "b@x.test", "c@x.test"} {
			if ok, err := g.Check(ctx, ip, "s@y.test", rcpt); err != nil || ok {
				t.Fatalf("triplet %d: %v %v, want greylisted", i, ok, err)
			}
		}
		if ok, err := g.Check(ctx, ip, "s@y.test", "d@x.test"); err != nil || !ok {
			t.Errorf("past the bound: %v %v, want passed unstored", ok, err)
		}
		var n int64
		tcheck(t, db.Read(ctx).Table("greylist").Count(&n).Error, "count")
		if n != 3 {
			t.Errorf("%d triplets stored, want 3", n)
		}
		// Another address of the same /24 is the same network.
		c.add(6 * time.Minute)
		if ok, err := g.Check(ctx, mustAddr("192.0.2.200"), "S@y.test", "a@x.test"); err != nil || !ok {
			t.Errorf("retry from the same /24: %v %v, want passed", ok, err)
		}
		// A day later the unpassed ones have expired and make room.
		c.add(25 * time.Hour)
		if ok, err := g.Check(ctx, ip, "s@y.test", "e@x.test"); err != nil || ok {
			t.Errorf("after expiry: %v %v, want greylisted (stored)", ok, err)
		}
		tcheck(t, db.Read(ctx).Table("greylist").Count(&n).Error, "count")
		if n != 2 {
			t.Errorf("%d triplets after expiry, want 2 (the passed one and the new one)", n)
		}
		if ok, err := g.Check(ctx, mustAddr("127.0.0.1"), "s@y.test", "z@x.test"); err != nil || !ok {
			t.Errorf("loopback: %v %v, want passed", ok, err)
		}
		if !strings.HasPrefix(greylist.Network(mustAddr("2001:db8::1")), "2001:db8::/64") {
			t.Errorf("IPv6 network: %s", greylist.Network(mustAddr("2001:db8::1")))
		}
	})
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
