package imapd_test

import (
	"strings"
	"testing"
)

// TestSearchExpungeIssued: a SEARCH that skips messages another session
// expunged, which this session still shows (no EXPUNGE is sent during
// SEARCH), answers OK [EXPUNGEISSUED] (RFC 9051 7.1); it answered a plain
// OK (issue 13).
func TestSearchExpungeIssued(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for i := 0; i < 3; i++ {
			e.deliver(e.john, "", msgPlain)
		}
		a := e.raw(true)
		a.login("john@example.test")
		a.expect("s", "SELECT INBOX", "OK")
		b := e.raw(true)
		b.login("john@example.test")
		b.expect("s", "SELECT INBOX", "OK")
		b.expect("d", `STORE 2 +FLAGS.SILENT (\Deleted)`, "OK")
		b.expect("x", "EXPUNGE", "OK")

		// The search did not need message 2: a plain OK.
		if lines, done := a.cmd("a", "SEARCH 1"); done != "a OK SEARCH completed" || !hasLine(lines, "* SEARCH 1") {
			t.Fatalf("SEARCH 1: %q %q", lines, done)
		}
		lines, done := a.cmd("b", "SEARCH ALL")
		if !strings.HasPrefix(done, "b OK [EXPUNGEISSUED]") || len(lines) != 1 || lines[0] != "* SEARCH 1 3" {
			t.Fatalf("SEARCH ALL after another session's EXPUNGE: %q %q", lines, done)
		}
		lines, done = a.cmd("c", "SEARCH RETURN (COUNT) UNDELETED")
		if !strings.HasPrefix(done, "c OK [EXPUNGEISSUED]") || !hasLine(lines, "COUNT 2") {
			t.Fatalf("ESEARCH: %q %q", lines, done)
		}
		// Told of the EXPUNGE, the session searches what it shows: plain OK.
		if lines := a.expect("n", "NOOP", "OK"); !hasLine(lines, "* 2 EXPUNGE") {
			t.Fatalf("NOOP: %q", lines)
		}
		if lines, done := a.cmd("e", "SEARCH ALL"); done != "e OK SEARCH completed" || len(lines) != 1 || lines[0] != "* SEARCH 1 2" {
			t.Fatalf("SEARCH ALL after EXPUNGE sent: %q %q", lines, done)
		}
	})
}
