package imapd_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// twoOnInbox delivers n messages to john's INBOX and returns two sessions
// with it selected: a first, so the messages are \Recent for a.
func twoOnInbox(t *testing.T, e *env, n int) (a, b *raw) {
	t.Helper()
	for range n {
		e.deliver(e.john, "", msgPlain)
	}
	a, b = e.raw(true), e.raw(true)
	a.login("john@example.test")
	b.login("john@example.test")
	a.expect("s", "SELECT INBOX", "OK")
	b.expect("s", "SELECT INBOX", "OK")
	return a, b
}

// fetchView returns a session's sequence numbers, UIDs and flags as
// "* n FETCH (UID u FLAGS (...))" lines, \Recent left out (it is the
// session's own).
func fetchView(r *raw) []string {
	r.t.Helper()
	lines := r.expect("v", "FETCH 1:* (UID FLAGS)", "OK")
	for i, l := range lines {
		lines[i] = strings.NewReplacer(` \Recent`, "", `\Recent`, "").Replace(l)
	}
	return lines
}

func resyncing(srv *imapd.Server) int {
	n := 0
	for _, q := range imapd.QueueStats(srv) {
		if q.Resync {
			n++
		}
	}
	return n
}

// TestQueueOverflowResync: a session that sends nothing while its queue
// overflows is brought up to date at its next command that allows
// EXPUNGE: the expunged messages from the highest sequence number down,
// EXISTS, FLAGS and FETCH FLAGS of the changed messages, after which its
// sequence numbers are those of a fresh session. FETCH before that sees
// no EXPUNGE and keeps the numbers the client knows.
func TestQueueOverflowResync(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, b := twoOnInbox(t, e, 10)
		imapd.SetMaxPending(e.srv, 5)
		b.expect("1", `STORE 2 +FLAGS.SILENT (\Flagged)`, "OK")
		b.expect("2", `STORE 3 +FLAGS.SILENT ($Kw)`, "OK")
		b.expect("3", `STORE 4,6 +FLAGS.SILENT (\Deleted)`, "OK")
		b.expect("4", "EXPUNGE", "OK") // a's queue: four flag updates and FLAGS; the EXPUNGEs overflow it
		if n := resyncing(e.srv); n != 1 {
			t.Fatalf("%d sessions await a resync, want 1", n)
		}
		// While a awaits its resync: more changes, and arrivals.
		b.expect("5", `UID STORE 1 +FLAGS.SILENT (\Answered)`, "OK")
		b.expect("6", `UID STORE 5 +FLAGS.SILENT (\Deleted)`, "OK")
		b.expect("7", "UID EXPUNGE 5", "OK")
		for range 3 {
			e.deliver(e.john, "", msgPlain)
		}
		b.expect("8", "NOOP", "OK")

		lines := a.expect("f", "FETCH 1:* UID", "OK")
		if hasLine(lines, "EXPUNGE") || hasLine(lines, "EXISTS") || !slices.Contains(lines, "* 7 FETCH (UID 7)") || len(lines) != 7 {
			t.Fatalf("FETCH before the resync: %q", lines)
		}
		lines = a.expect("n", "NOOP", "OK")
		want := []string{
			"* 6 EXPUNGE", "* 5 EXPUNGE", "* 4 EXPUNGE",
			"* 10 EXISTS", "* 10 RECENT", // a claimed the arrivals, awaiting its resync
			`* FLAGS (\Seen \Answered \Flagged \Deleted \Draft $Kw)`,
			`* 1 FETCH (UID 1 FLAGS (\Answered \Recent))`,
			`* 2 FETCH (UID 2 FLAGS (\Flagged \Recent))`,
			`* 3 FETCH (UID 3 FLAGS ($Kw \Recent))`,
		}
		if !slices.Equal(lines, want) {
			t.Fatalf("resync:\n got %q\nwant %q", lines, want)
		}
		c := e.raw(true)
		c.login("john@example.test")
		c.expect("s", "EXAMINE INBOX", "OK")
		if got, fresh := fetchView(a), fetchView(c); !slices.Equal(got, fresh) {
			t.Fatalf("view after resync:\n got %q\nfresh %q", got, fresh)
		}
		if n := resyncing(e.srv); n != 0 {
			t.Fatalf("%d sessions still await a resync", n)
		}
		// Updates are queued again.
		b.expect("9", `UID STORE 7 +FLAGS.SILENT (\Seen)`, "OK")
		if lines := a.expect("n", "NOOP", "OK"); !slices.Equal(lines, []string{`* 4 FETCH (UID 7 FLAGS (\Seen \Recent))`}) {
			t.Fatalf("after resync: %q", lines)
		}
	})
}

// TestQueueOverflowDuringIdle: a queue that overflows while its session
// is in IDLE resyncs there.
func TestQueueOverflowDuringIdle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, b := twoOnInbox(t, e, 10)
		imapd.SetMaxPending(e.srv, 5)
		a.send("i IDLE\r\n")
		if l := a.line(); !strings.HasPrefix(l, "+ ") {
			t.Fatalf("IDLE: %q", l)
		}
		// One change of ten messages: queued at once, past the limit.
		b.expect("1", `STORE 1:10 +FLAGS.SILENT (\Answered)`, "OK")
		var got []string
		for len(got) < 10 {
			got = append(got, a.line())
		}
		for i, l := range got {
			if want := fmt.Sprintf(`* %d FETCH (UID %d FLAGS (\Answered \Recent))`, i+1, i+1); l != want {
				t.Fatalf("line %d in IDLE: %q, want %q (all: %q)", i, l, want, got)
			}
		}
		a.send("DONE\r\n")
		if lines, done := a.until("i"); len(lines) != 0 || !strings.HasPrefix(done, "i OK") {
			t.Fatalf("IDLE end: %q %q", lines, done)
		}
	})
}

// TestQueueMergesFlags: several changes of one message's flags reach
// another session as one FETCH with the last flags.
func TestQueueMergesFlags(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, b := twoOnInbox(t, e, 2)
		b.expect("1", `STORE 1 +FLAGS.SILENT (\Seen)`, "OK")
		b.expect("2", `STORE 2 +FLAGS.SILENT (\Seen)`, "OK")
		b.expect("3", `STORE 1 +FLAGS.SILENT (\Flagged)`, "OK")
		b.expect("4", `STORE 1 -FLAGS.SILENT (\Seen)`, "OK")
		lines := a.expect("n", "NOOP", "OK")
		want := []string{`* 1 FETCH (UID 1 FLAGS (\Flagged \Recent))`, `* 2 FETCH (UID 2 FLAGS (\Seen \Recent))`}
		if !slices.Equal(lines, want) {
			t.Fatalf("got %q, want %q", lines, want)
		}
	})
}

// TestQueueOwnStoreAfterOther: when another session's change of a
// message is queued and the session then changes the message itself, the
// last flags it is told are the message's flags now, not the queued ones.
func TestQueueOwnStoreAfterOther(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, b := twoOnInbox(t, e, 2)
		b.expect("1", `STORE 1 +FLAGS.SILENT (\Flagged)`, "OK")
		lines := a.expect("s", `STORE 1 +FLAGS (\Seen)`, "OK")
		if len(lines) == 0 || !strings.Contains(lines[len(lines)-1], `FLAGS (\Seen \Flagged \Recent)`) {
			t.Fatalf("STORE: %q", lines)
		}
		b.expect("2", `STORE 2 +FLAGS.SILENT (\Flagged)`, "OK")
		lines = a.expect("t", `STORE 2 +FLAGS.SILENT (\Seen)`, "OK")
		if !slices.Equal(lines, []string{`* 2 FETCH (UID 2 FLAGS (\Seen \Flagged \Recent))`}) {
			t.Fatalf("STORE.SILENT: %q", lines)
		}
	})
}

// TestQueueExpungeRun: several EXPUNGEs queued together are numbered
// each after the ones before it.
func TestQueueExpungeRun(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, b := twoOnInbox(t, e, 10)
		b.expect("1", `STORE 2,4,6,8 +FLAGS.SILENT (\Deleted)`, "OK")
		b.expect("2", "EXPUNGE", "OK")
		lines := a.expect("n", "NOOP", "OK")
		want := []string{`* 2 FETCH (UID 2 FLAGS (\Deleted \Recent))`, `* 4 FETCH (UID 4 FLAGS (\Deleted \Recent))`,
			`* 6 FETCH (UID 6 FLAGS (\Deleted \Recent))`, `* 8 FETCH (UID 8 FLAGS (\Deleted \Recent))`,
			"* 2 EXPUNGE", "* 3 EXPUNGE", "* 4 EXPUNGE", "* 5 EXPUNGE"}
		if !slices.Equal(lines, want) {
			t.Fatalf("got %q, want %q", lines, want)
		}
		lines = a.expect("f", "FETCH 1:* UID", "OK")
		want = []string{"* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 5)", "* 4 FETCH (UID 7)", "* 5 FETCH (UID 9)", "* 6 FETCH (UID 10)"}
		if !slices.Equal(lines, want) {
			t.Fatalf("view: %q", lines)
		}
	})
}

// TestSilentClientBounded: with the real limit, a session that never
// reads holds one update per changed message however often they change,
// and no more than the limit when messages keep arriving; then it
// resyncs to the same view as a fresh session.
func TestSilentClientBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a folder with 10,000 messages")
	}
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	a, b := twoOnInbox(t, e, 300)
	largest := func() (int, int) {
		size, resync := 0, 0
		for _, q := range imapd.QueueStats(e.srv) {
			size = max(size, q.Size)
			if q.Resync {
				resync++
			}
		}
		return size, resync
	}
	for i := range 40 {
		b.expect("s", fmt.Sprintf("STORE 1:* FLAGS.SILENT (k%d)", i), "OK")
	}
	if size, resync := largest(); size != 301 || resync != 0 {
		t.Fatalf("after 40 changes of 300 messages: queue of %d (want 300 flags and a FLAGS), %d resyncing", size, resync)
	}
	fillFolder(t, e, 10000)
	b.expect("n", "NOOP", "OK")
	if size, resync := largest(); size > 10000 || resync != 1 {
		t.Fatalf("after 10,000 arrivals: largest queue %d, %d resyncing (want a)", size, resync)
	}
	lines := a.expect("n", "NOOP", "OK")
	if !slices.Contains(lines, "* 10300 EXISTS") || len(lines) != 2+1+300 {
		t.Fatalf("resync: %d lines, first %q", len(lines), lines[:min(5, len(lines))])
	}
	c := e.raw(true)
	c.login("john@example.test")
	c.expect("s", "EXAMINE INBOX", "OK")
	if got, fresh := fetchView(a), fetchView(c); !slices.Equal(got, fresh) {
		t.Fatalf("view after resync differs from a fresh session's (%d and %d lines)", len(got), len(fresh))
	}
}
