package retention_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/retention"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// countingStore counts the batches the job asks for, to assert the bound.
type countingStore struct {
	*store.Store
	mu      sync.Mutex
	batches []int
}

func (c *countingStore) ExpireOlder(ctx context.Context, mailboxID int64, folder string, before time.Time, limit int) (int, error) {
	n, err := c.Store.ExpireOlder(ctx, mailboxID, folder, before, limit)
	c.mu.Lock()
	c.batches = append(c.batches, n)
	c.mu.Unlock()
	return n, err
}

// TestExpiry: the domain's defaults (Trash 30 days) and a user's own rule
// (Junk 5 days, Trash kept) on a clock the test controls: only messages
// older than their folder's days go, in batches of at most Batch, at most
// MaxPerRun a run; quota usage goes down; a run leaves one audit entry;
// while one process holds the lease another does not run. A user changes
// their own rules only when the domain lets them.
func TestExpiry(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := &clock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
		ts := tenantstest.Service(db, clk.Now)
		sys := tenants.SystemScope("test")
		_, err := ts.CreateDomain(ctx, sys, "a.test", "")
		tcheck(t, err, "domain")
		mk := func(a string) (*tenants.Mailbox, address.Address) {
			ad, _ := address.ParseAddress(a)
			m, err := ts.CreateMailbox(ctx, sys, tenants.NewMailbox{Address: ad, Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()})
			tcheck(t, err, "mailbox")
			return m, ad
		}
		ann, annA := mk("ann@a.test")
		bob, bobA := mk("bob@a.test")
		bs, err := blob.NewFiles(t.TempDir())
		tcheck(t, err, "blobs")
		st := store.New(db, bs, store.Options{Now: clk.Now})
		add := func(m *tenants.Mailbox, folder string, n int, age time.Duration) {
			t.Helper()
			tcheck(t, st.EnsureFolders(ctx, m.ID), "folders")
			for i := range n {
				body := fmt.Sprintf("Subject: %s %d\r\n\r\nhello\r\n", folder, i)
				_, _, err := st.Append(ctx, m.ID, folder, 0, strings.NewReader(body), 1<<20, nil, clk.Now().Add(-age))
				tcheck(t, err, "append")
			}
		}
		add(ann, "Trash", 23, 31*24*time.Hour) // expired by the domain's 30 days
		add(ann, "Trash", 2, 29*24*time.Hour)  // not yet
		add(ann, "INBOX", 3, 400*24*time.Hour) // INBOX has no rule
		add(bob, "Trash", 4, 31*24*time.Hour)  // bob keeps Trash
		add(bob, "Junk", 3, 6*24*time.Hour)    // bob's Junk: 5 days
		add(bob, "Junk", 1, 4*24*time.Hour)

		tcheck(t, ts.SetDomainRetention(ctx, sys, "a.test", []tenants.Retention{{Folder: "Trash", Days: 30}, {Folder: "Junk", Days: 30}}), "defaults")
		bl, err := ts.ResolveLogin(ctx, tenants.PanelLogin, "bob@a.test", "Xk9#mq2!pLw7z", "")
		tcheck(t, err, "bob")
		own := []tenants.Retention{{Folder: "Trash", Days: 0}, {Folder: "Junk", Days: 5}}
		if err := ts.SetMailboxRetention(ctx, bl.UserScope(""), bobA, own); err == nil {
			t.Fatal("bob set his own without the domain's permission")
		}
		tcheck(t, ts.SetDomainRules(ctx, sys, "a.test", tenants.DomainRules{UsersChangePassword: true, UsersSetRetention: true}), "rules")
		tcheck(t, ts.SetMailboxRetention(ctx, bl.UserScope(""), bobA, own), "bob's own")
		if err := ts.SetMailboxRetention(ctx, bl.UserScope(""), annA, own); err == nil {
			t.Fatal("bob set ann's")
		}

		cs := &countingStore{Store: st}
		job := &retention.Job{Tenants: ts, Store: cs, Log: slog.New(slog.DiscardHandler), Now: clk.Now, Batch: 10, MaxPerRun: 20}
		// Another process holds the lease: this one does not run.
		other := &retention.Job{Tenants: ts, Store: blockingStore{st, nil, nil}, Log: slog.New(slog.DiscardHandler), Now: clk.Now}
		block, entered := make(chan struct{}), make(chan struct{}, 1)
		holding := &retention.Job{Tenants: ts, Store: blockingStore{st, block, entered}, Log: slog.New(slog.DiscardHandler), Now: clk.Now, Batch: 10, MaxPerRun: 10}
		done := make(chan struct{})
		go func() { defer close(done); holding.RunOnce(ctx) }()
		<-entered // the holder is in its first batch, holding the lease
		if _, ran, err := other.RunOnce(ctx); err != nil || ran {
			t.Fatalf("a second process ran the job while the first held it: %v %v", ran, err)
		}
		close(block)
		<-done

		res, ran, err := job.RunOnce(ctx)
		tcheck(t, err, "run")
		// 26 expired (ann's Trash 23, bob's Junk 3), 10 removed by the holder.
		if !ran || res.Removed != 16 || res.Capped {
			t.Fatalf("run %+v", res)
		}
		for _, n := range cs.batches {
			if n > 10 {
				t.Fatalf("a batch of %d", n)
			}
		}
		for range 5 {
			if _, _, err := job.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		count := func(m *tenants.Mailbox, folder string) int64 {
			f, err := st.Folder(ctx, m.ID, folder)
			tcheck(t, err, "folder")
			c, err := st.CountFolder(ctx, f.ID, 0)
			tcheck(t, err, "count")
			return c.FromUID
		}
		for _, c := range []struct {
			m      *tenants.Mailbox
			folder string
			want   int64
		}{{ann, "Trash", 2}, {ann, "INBOX", 3}, {bob, "Trash", 4}, {bob, "Junk", 1}} {
			if got := count(c.m, c.folder); got != c.want {
				t.Errorf("%d %s: %d messages, want %d", c.m.ID, c.folder, got, c.want)
			}
		}
		_, n, err := st.Usage(ctx, ann.ID)
		tcheck(t, err, "usage")
		if n != 5 {
			t.Errorf("ann's usage counts %d messages", n)
		}
		entries, _, err := ts.AuditRecords(ctx, sys, tenants.AuditQuery{})
		tcheck(t, err, "audit")
		runs := 0
		for _, e := range entries {
			if e.Action == "retention.run" {
				runs++
			}
		}
		if runs < 2 {
			t.Errorf("%d audit entries of runs", runs)
		}
		// A run with nothing to remove leaves none.
		before := runs
		_, _, err = job.RunOnce(ctx)
		tcheck(t, err, "idle run")
		entries, _, _ = ts.AuditRecords(ctx, sys, tenants.AuditQuery{})
		runs = 0
		for _, e := range entries {
			if e.Action == "retention.run" {
				runs++
			}
		}
		if runs != before {
			t.Errorf("an idle run wrote an audit entry")
		}
	})
}

// blockingStore says it was entered and holds each batch until block
// closes, so that its run holds the lease meanwhile; without a block
// channel it panics, for a run that must not remove anything.
type blockingStore struct {
	*store.Store
	block   chan struct{}
	entered chan struct{}
}

func (b blockingStore) ExpireOlder(ctx context.Context, mailboxID int64, folder string, before time.Time, limit int) (int, error) {
	if b.block == nil {
		panic("this run should not have run")
	}
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.block
	return b.Store.ExpireOlder(ctx, mailboxID, folder, before, limit)
}
