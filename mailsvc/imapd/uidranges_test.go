package imapd_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// scattered returns "1,3,5,..." up to n ranges of one UID each.
func scattered(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, 2*i+1)
	}
	return b.String()
}

// BenchmarkUIDCopyScattered copies 5,000 scattered UIDs (5,000 ranges)
// out of a folder of 10,000 messages, on each engine.
func BenchmarkUIDCopyScattered(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			if eng == database.Postgres {
				tenantstest.PostgresURL(b) // skips without a server
			}
			e, _ := bigEnv(b, eng, 10000, nil)
			tcheck(b, e.st.EnsureFolders(context.Background(), e.john), "folders")
			r := e.raw(true)
			r.login("john@example.test")
			r.expect("s", "SELECT INBOX", "OK")
			cmd := "UID COPY " + scattered(5000) + " Archive"
			for b.Loop() {
				r.expect("c", cmd, "OK")
			}
		})
	}
}

// rangesEnv is a server whose john has n messages in INBOX (UIDs 1 to n,
// each with an X-Seq header giving its UID) and the default folders.
func rangesEnv(t *testing.T, db *database.DB, n int) *env {
	e := newEnv(t, db, nil)
	fillFolder(t, e, n)
	tcheck(t, e.st.EnsureFolders(context.Background(), e.john), "folders")
	return e
}

// copyUID returns the source and destination sets of a COPYUID code.
var copyUIDRe = regexp.MustCompile(`\[COPYUID \d+ ([0-9:,]+) ([0-9:,]+)\]`)

func copyUID(t *testing.T, lines ...string) (src, dst string) {
	t.Helper()
	for _, l := range lines {
		if m := copyUIDRe.FindStringSubmatch(l); m != nil {
			return m[1], m[2]
		}
	}
	t.Fatalf("no COPYUID in %q", lines)
	return "", ""
}

// checkCopies checks that each of the folder's messages is the copy of the
// one whose UID it maps from: message i of dst came from src[i].
func checkCopies(t *testing.T, e *env, folder string, src []uint32) {
	t.Helper()
	ctx := context.Background()
	f, err := e.st.Folder(ctx, e.john, folder)
	tcheck(t, err, "folder")
	ms, err := e.st.Messages(ctx, f.ID, nil)
	tcheck(t, err, "messages")
	if len(ms) != len(src) {
		t.Fatalf("%s holds %d messages, want %d", folder, len(ms), len(src))
	}
	for i, m := range ms {
		if want := fmt.Sprintf("X-Seq: %d\r\n", src[i]); m.Prefix != want {
			t.Fatalf("%s UID %d is %q, want the copy of UID %d", folder, m.UID, m.Prefix, src[i])
		}
	}
}

func odd(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(2*i + 1)
	}
	return out
}

// TestUIDCopyManyRanges: a COPY of more ranges than one query names is one
// copy, its COPYUID mapping each source UID to its copy in order.
func TestUIDCopyManyRanges(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := rangesEnv(t, db, 700)
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		_, done := r.cmd("c", "UID COPY "+scattered(300)+" Archive")
		src, dst := copyUID(t, done)
		if src != scattered(300) || dst != "1:300" {
			t.Fatalf("COPYUID %s %s", src, dst)
		}
		checkCopies(t, e, "Archive", odd(300))
	})
}

// TestUIDCopyAllOrNothing: a COPY past the quota copies nothing, however
// many ranges it names (the quota is checked once, for all of them).
func TestUIDCopyAllOrNothing(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := rangesEnv(t, db, 700)
		used, _, err := e.st.Usage(ctx, e.john)
		tcheck(t, err, "usage")
		// Room for about half of the copy.
		quota := used + 150*int64(len(msgPlain)+len("X-Seq: 100\r\n"))
		john, _ := address.ParseAddress("john@example.test")
		_, err = e.ts.UpdateMailbox(ctx, tenants.SystemScope("test"), john, tenants.MailboxUpdate{QuotaBytes: &quota})
		tcheck(t, err, "quota")
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		_, done := r.cmd("c", "UID COPY "+scattered(300)+" Archive")
		if !strings.HasPrefix(done, "c NO [OVERQUOTA]") {
			t.Fatalf("copy past the quota: %q", done)
		}
		if l := r.expect("st", "STATUS Archive (MESSAGES)", "OK"); !hasLine(l, "(MESSAGES 0)") {
			t.Fatalf("after a refused copy: %q", l)
		}
		if u, _, _ := e.st.Usage(ctx, e.john); u != used {
			t.Fatalf("usage %d after a refused copy, was %d", u, used)
		}
		// A copy that fits goes through.
		_, done = r.cmd("c", "UID COPY "+scattered(100)+" Archive")
		if src, dst := copyUID(t, done); src != scattered(100) || dst != "1:100" {
			t.Fatalf("COPYUID %s %s", src, dst)
		}
	})
}

// TestUIDMoveManyRanges: MOVE of scattered UIDs moves exactly those, in
// one transaction; this session and another see them expunged.
func TestUIDMoveManyRanges(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := rangesEnv(t, db, 700)
		a, b := e.raw(true), e.raw(true)
		a.login("john@example.test")
		b.login("john@example.test")
		a.expect("s", "SELECT INBOX", "OK")
		b.expect("s", "SELECT INBOX", "OK")
		lines := a.expect("m", "UID MOVE "+scattered(300)+" Trash", "OK")
		if src, dst := copyUID(t, lines...); src != scattered(300) || dst != "1:300" {
			t.Fatalf("COPYUID %s %s", src, dst)
		}
		if n := countLines(lines, " EXPUNGE"); n != 300 {
			t.Fatalf("%d EXPUNGE for the mover", n)
		}
		if n := countLines(b.expect("n", "NOOP", "OK"), " EXPUNGE"); n != 300 {
			t.Fatalf("%d EXPUNGE for the other session", n)
		}
		checkCopies(t, e, "Trash", odd(300))
		if l := a.expect("st", "STATUS INBOX (MESSAGES)", "OK"); !hasLine(l, "(MESSAGES 400)") {
			t.Fatalf("INBOX after move: %q", l)
		}
		if got := a.expect("f", "UID SEARCH UID 1:600 NOT DELETED", "OK"); !hasLine(got, "* SEARCH 2 4 6 ") {
			t.Fatalf("left: %.80q", got)
		}
	})
}

// TestUIDStoreManyRanges: STORE on scattered UIDs changes exactly those,
// one modseq for all, and another session learns of each.
func TestUIDStoreManyRanges(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := rangesEnv(t, db, 700)
		a, b := e.raw(true), e.raw(true)
		a.login("john@example.test")
		b.login("john@example.test")
		a.expect("s", "SELECT INBOX", "OK")
		b.expect("s", "SELECT INBOX", "OK")
		lines := a.expect("f", "UID STORE "+scattered(300)+" +FLAGS (\\Flagged)", "OK")
		if n := countLines(lines, `\Flagged`); n != 300 {
			t.Fatalf("%d FETCH responses to the STORE", n)
		}
		if n := countLines(b.expect("n", "NOOP", "OK"), `\Flagged`); n != 300 {
			t.Fatalf("%d flag updates for the other session", n)
		}
		got := a.expect("x", "UID SEARCH FLAGGED", "OK")
		if !hasLine(got, "* SEARCH "+strings.ReplaceAll(scattered(300), ",", " ")) {
			t.Fatalf("flagged: %.80q", got)
		}
	})
}

// TestHubLargeChange: a change to more messages than a page of the change
// feed reaches another session whole, and the feed goes on after it.
func TestHubLargeChange(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		const n = 2500
		e := newEnv(t, db, nil)
		fillFolder(t, e, n)
		a, b := e.raw(true), e.raw(true)
		a.login("john@example.test")
		b.login("john@example.test")
		a.expect("s", "SELECT INBOX", "OK")
		b.expect("s", "SELECT INBOX", "OK")
		a.expect("f", "STORE 1:* +FLAGS.SILENT (\\Flagged)", "OK")
		lines := b.expect("n", "NOOP", "OK")
		if got := countLines(lines, `\Flagged`); got != n {
			t.Fatalf("the other session learnt of %d changes, want %d", got, n)
		}
		e.deliver(e.john, "", msgPlain)
		if l := b.expect("n", "NOOP", "OK"); !hasLine(l, fmt.Sprintf("* %d EXISTS", n+1)) || countLines(l, "FETCH") != 0 {
			t.Fatalf("after a delivery: %.200q", l)
		}
	})
}

func countLines(lines []string, substr string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
