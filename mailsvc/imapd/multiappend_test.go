package imapd_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// multiappend: one APPEND with two messages (RFC 3502), imaptest's
// script.
func TestImaptestMultiappend(t *testing.T) {
	itReplay(t, itScript{caps: []string{"MULTIAPPEND"}, state: itCreated}, func(it *itRun) {
		m1 := itCRLF("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: mail1\n\nbody1\n")
		m2 := itCRLF("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: mail2\n\nbody2\n")
		it.ok(1, "append $mailbox "+itLit(m1)+" "+itLit(m2))
		it.ok(1, "select $mailbox")
		it.ok(1, "fetch 1:* body.peek[header.fields (subject)]",
			"* 1 fetch (body[header.fields (subject)] "+itLit("Subject: mail1\r\n\r\n")+")",
			"* 2 fetch (body[header.fields (subject)] "+itLit("Subject: mail2\r\n\r\n")+")")
	})
}

// TestMultiappendAtomic: the messages of one APPEND are stored all or
// none (RFC 3502 6.3.11): one too big, or one past the quota, and none
// is; APPENDUID names them all; a missing folder is refused before any
// message is read.
func TestMultiappendAtomic(t *testing.T) {
	forEachEngineWith(t, func(c *imapd.Config) { c.MaxMessageSize = 2000 }, func(t *testing.T, e *env) {
		r := e.raw(true)
		r.login("john@example.test")
		small := "Subject: s\r\n\r\nsmall\r\n"
		big := "Subject: b\r\n\r\n" + strings.Repeat("x", 2500) + "\r\n"
		lit := func(s string) string { return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s }
		count := func(want string) {
			t.Helper()
			if lines := r.expect("s", "STATUS INBOX (MESSAGES)", "OK"); !hasLine(lines, "(MESSAGES "+want+")") {
				t.Fatalf("STATUS: %q, want %s messages", lines, want)
			}
		}
		_, done := r.cmd("a", "APPEND INBOX (\\Seen) "+lit(small)+" "+lit(small)+" \"01-Jan-2020 10:00:00 +0100\" "+lit(small))
		if !strings.HasPrefix(done, "a OK [APPENDUID ") || !strings.Contains(done, " 1:3]") {
			t.Fatalf("APPEND of three: %q", done)
		}
		count("3")
		r.expect("x", "SELECT INBOX", "OK")
		lines := r.expect("f", "FETCH 1:3 (FLAGS INTERNALDATE)", "OK")
		if !hasLine(lines, `* 1 FETCH (FLAGS (\Seen`) || !hasLine(lines, `" 1-Jan-2020 10:00:00 +0100"`) {
			t.Fatalf("flags and date of each message: %q", lines)
		}
		r.expect("u", "UNSELECT", "OK")

		// The second of three is too big: none is stored.
		r.send("b APPEND INBOX " + lit(small) + " " + lit(big) + " " + lit(small) + "\r\n")
		if _, done := r.until("b"); !strings.HasPrefix(done, "b NO [TOOBIG]") {
			t.Fatalf("APPEND with a message too big: %q", done)
		}
		count("3")

		// Over quota together, though each fits: none is stored.
		q := int64(90) // three messages of 21 bytes stored: one more fits, not two
		john, _ := address.ParseAddress("john@example.test")
		_, err := e.ts.UpdateMailbox(context.Background(), tenants.SystemScope("test"), john, tenants.MailboxUpdate{QuotaBytes: &q})
		tcheck(t, err, "set quota")
		if _, done := r.cmd("c", "APPEND INBOX "+lit(small)+" "+lit(small)); !strings.HasPrefix(done, "c NO [OVERQUOTA]") {
			t.Fatalf("APPEND over quota: %q", done)
		}
		count("3")

		// A missing folder: NO [TRYCREATE] without a "+" for the data.
		r.send("d APPEND Nowhere {5}\r\n")
		if l := r.line(); !strings.HasPrefix(l, "d NO [TRYCREATE]") {
			t.Fatalf("APPEND to a missing folder: %q", l)
		}
	})
}

// forEachEngineWith is forEachEngine with the server's Config changed.
func forEachEngineWith(t *testing.T, mod func(*imapd.Config), fn func(t *testing.T, e *env)) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		fn(t, newEnv(t, db, mod))
	})
}
