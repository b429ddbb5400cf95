package imapd_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestTwoSessions: two sessions on one folder see each other's flag
// changes, new messages and expunges.
func TestTwoSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.deliver(e.john, "", msgPlain)
		e.deliver(e.john, "", msgPlain)
		a, b := e.raw(true), e.raw(true)
		a.login("john@example.test")
		b.login("john/example.test")
		a.expect("s", "SELECT INBOX", "OK")
		lines := b.expect("s", "SELECT INBOX", "OK")
		if !hasLine(lines, "* 2 EXISTS") || !hasLine(lines, "* 0 RECENT") {
			t.Fatalf("second select %q (the first session has \\Recent)", lines)
		}
		a.expect("f", "STORE 1 +FLAGS.SILENT (\\Flagged $Label1)", "OK")
		lines = b.expect("n", "NOOP", "OK")
		if !hasLine(lines, "* FLAGS (") || !hasLine(lines, "$Label1") || !hasLine(lines, "* 1 FETCH (UID 1 FLAGS (\\Flagged $Label1))") {
			t.Fatalf("flag change not seen: %q", lines)
		}
		// FLAGS announcing the new keyword comes before the FETCH that shows it.
		if i, j := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "* FLAGS") }),
			slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "FETCH") }); i > j {
			t.Fatalf("keyword used before FLAGS: %q", lines)
		}
		e.deliver(e.john, "", msgPlain)
		lines = a.expect("n", "NOOP", "OK")
		if !hasLine(lines, "* 3 EXISTS") || !hasLine(lines, "* 3 RECENT") {
			t.Fatalf("new message not seen by a: %q", lines)
		}
		lines = b.expect("n", "NOOP", "OK")
		if !hasLine(lines, "* 3 EXISTS") || !hasLine(lines, "* 0 RECENT") {
			t.Fatalf("new message not seen by b: %q", lines)
		}
		lines = a.expect("f", "FETCH 3 FLAGS", "OK")
		if !hasLine(lines, "\\Recent") {
			t.Fatalf("new message not \\Recent for a: %q", lines)
		}
		b.expect("d", "STORE 2 +FLAGS.SILENT (\\Deleted)", "OK")
		lines = b.expect("x", "EXPUNGE", "OK")
		if !slices.Contains(lines, "* 2 EXPUNGE") {
			t.Fatalf("expunge answer %q", lines)
		}
		// During FETCH the expunge waits (RFC 9051 7.5.1); NOOP gets it.
		lines = a.expect("f", "FETCH 1:* UID", "OK")
		if hasLine(lines, "EXPUNGE") {
			t.Fatalf("fetch while expunge pending: %q", lines)
		}
		lines = a.expect("n", "NOOP", "OK")
		if !slices.Contains(lines, "* 2 EXPUNGE") {
			t.Fatalf("expunge not seen: %q", lines)
		}
		lines = a.expect("f", "FETCH 2 UID", "OK")
		if !hasLine(lines, "* 2 FETCH (UID 3)") {
			t.Fatalf("sequence numbers after expunge: %q", lines)
		}
	})
}

// TestIdle: a delivery shows up in an IDLE session within a second.
func TestIdle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		exists := make(chan uint32, 10)
		c := e.client("john@example.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		}})
		_, err := c.Select("INBOX", nil).Wait()
		tcheck(t, err, "select")
		idle, err := c.Idle()
		tcheck(t, err, "idle")
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		e.deliver(e.john, "", msgPlain)
		select {
		case n := <-exists:
			if n != 1 {
				t.Fatalf("EXISTS %d", n)
			}
			t.Logf("IDLE notified after %v", time.Since(start))
		case <-time.After(time.Second):
			t.Fatal("no EXISTS within a second")
		}
		tcheck(t, idle.Close(), "done")
		tcheck(t, idle.Wait(), "idle end")
		tcheck(t, c.Noop().Wait(), "noop after idle")
	})
}

// TestCrossProcessIdle: two stores on one PostgreSQL database, as two
// Postdesk processes would have; a delivery through one reaches an IDLE
// session of the other through LISTEN/NOTIFY.
func TestCrossProcessIdle(t *testing.T) {
	url := tenantstest.PostgresURL(t)
	ctx := context.Background()
	open := func() *database.DB {
		db, err := database.Open(ctx, database.Config{URL: url})
		tcheck(t, err, "open")
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1 := open()
	if _, err := migrationsApply(ctx, db1); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db1, nil) // process 1: the IMAP server
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go e.st.ListenPostgres(lctx, url)

	db2 := open() // process 2: delivers
	bs, err := blob.NewFiles(t.TempDir())
	tcheck(t, err, "blobs")
	other := store.New(db2, bs, store.Options{})

	exists := make(chan uint32, 10)
	c := e.client("john@example.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	_, err = c.Select("INBOX", nil).Wait()
	tcheck(t, err, "select")
	idle, err := c.Idle()
	tcheck(t, err, "idle")
	time.Sleep(200 * time.Millisecond) // LISTEN is up
	start := time.Now()
	p, _ := other.Blobs().Create(ctx)
	io.WriteString(p, msgPlain)
	res, err := other.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: e.john}}})
	tcheck(t, err, "deliver in the other process")
	tcheck(t, res.Errs[0], "deliver")
	select {
	case n := <-exists:
		t.Logf("other process's delivery seen after %v", time.Since(start))
		if n != 1 {
			t.Fatalf("EXISTS %d", n)
		}
	case <-time.After(time.Second):
		t.Fatal("no EXISTS within a second from the other process")
	}
	idle.Close()
	idle.Wait()
}

func TestQuota(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		john, _ := address.ParseAddress("john@example.test")
		q := int64(10 << 10)
		_, err := e.ts.UpdateMailbox(ctx, tenants.SystemScope("test"), john, tenants.MailboxUpdate{QuotaBytes: &q})
		tcheck(t, err, "set quota")
		e.deliver(e.john, "", msgPlain)
		c := e.client("john@example.test", nil)
		roots, err := c.GetQuotaRoot("INBOX").Wait()
		tcheck(t, err, "getquotaroot")
		if len(roots) != 1 || roots[0].Root != "" {
			t.Fatalf("roots %+v", roots)
		}
		st := roots[0].Resources[imap.QuotaResourceStorage]
		if st.Limit != 10 || st.Usage != 1 {
			t.Fatalf("storage %+v", st)
		}
		if _, err := c.GetQuota("other").Wait(); err == nil {
			t.Fatal("unknown quota root answered")
		}
		if caps := c.Caps(); !caps.Has(imap.CapQuota) {
			t.Fatalf("QUOTA not announced: %v", caps)
		}
		big := strings.Repeat("x", 12<<10)
		ac := c.Append("INBOX", int64(len(big)), nil)
		ac.Write([]byte(big))
		ac.Close()
		if _, err := ac.Wait(); !isCode(err, imap.ResponseCodeOverQuota) {
			t.Fatalf("append over quota: %v", err)
		}
		small := "Subject: x\r\n\r\nsmall\r\n"
		ac = c.Append("Drafts", int64(len(small)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft}})
		ac.Write([]byte(small))
		ac.Close()
		ad, err := ac.Wait()
		tcheck(t, err, "append")
		if ad.UID != 1 || ad.UIDValidity == 0 {
			t.Fatalf("appenduid %+v", ad)
		}
		// Copy beyond the quota.
		for i := 0; i < 9; i++ {
			e.deliver(e.john, "Archive", strings.Repeat("y", 800))
		}
		_, err = c.Select("Archive", nil).Wait()
		tcheck(t, err, "select")
		if _, err := c.Copy(imap.SeqSet{{Start: 1, Stop: 0}}, "Trash").Wait(); !isCode(err, imap.ResponseCodeOverQuota) {
			t.Fatalf("copy over quota: %v", err)
		}
	})
}

// TestRestart: UIDVALIDITY and UIDs come from the database, so a new
// server on the same database shows the same ones.
func TestRestart(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		e.deliver(e.john, "", msgPlain)
		e.deliver(e.john, "", msgPlain)
		fetch := func() (uint32, []imap.UID) {
			c := e.client("john@example.test", nil)
			sd, err := c.Select("INBOX", nil).Wait()
			tcheck(t, err, "select")
			msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true}).Collect()
			tcheck(t, err, "fetch")
			var uids []imap.UID
			for _, m := range msgs {
				uids = append(uids, m.UID)
			}
			c.Logout().Wait()
			return sd.UIDValidity, uids
		}
		v1, u1 := fetch()
		e.startServer(nil)
		v2, u2 := fetch()
		if v1 != v2 || !slices.Equal(u1, u2) {
			t.Fatalf("before restart %d %v, after %d %v", v1, u1, v2, u2)
		}
	})
}

// TestManySessions runs sessions concurrently on one folder: all are
// served and end with the same view.
func TestManySessions(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	for i := 0; i < 20; i++ {
		e.deliver(e.john, "", msgPlain)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.raw(true)
			r.login("john@example.test")
			r.expect("s", "SELECT INBOX", "OK")
			for j := 0; j < 10; j++ {
				r.expect("f", "STORE 1:* +FLAGS.SILENT (k"+string(rune('a'+i))+")", "OK")
				r.expect("n", "NOOP", "OK")
				r.expect("g", "FETCH 1:* FLAGS", "OK")
			}
		}()
	}
	wg.Wait()
}
