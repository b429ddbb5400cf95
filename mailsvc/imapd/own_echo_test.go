package imapd_test

import (
	"strings"
	"testing"
)

// A session's own flag changes are reported once, by the command that
// made them: the hub's watcher may read them from the store first, and
// must not queue them back to the session as if another had made them.
func TestOwnChangesNotEchoed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		const n = 1200
		fillFolder(t, e, n)
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		count := func(lines []string) int {
			k := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "* ") && strings.Contains(l, " FETCH ") {
					k++
				}
			}
			return k
		}
		// Without PEEK: every message gets \Seen, told once with its body.
		lines := r.expect("f", "FETCH 1:* (FLAGS BODY[HEADER.FIELDS (X-Seq)])", "OK")
		lines = append(lines, r.expect("n", "NOOP", "OK")...)
		if k := count(lines); k != n {
			t.Fatalf("FETCH without PEEK: %d FETCH responses for %d messages", k, n)
		}
		lines = r.expect("st", `STORE 1:* +FLAGS (\Flagged)`, "OK")
		lines = append(lines, r.expect("n", "NOOP", "OK")...)
		if k := count(lines); k != n {
			t.Fatalf("STORE: %d FETCH responses for %d messages", k, n)
		}
		lines = r.expect("ss", `STORE 1:* -FLAGS.SILENT (\Flagged)`, "OK")
		lines = append(lines, r.expect("n", "NOOP", "OK")...)
		if k := count(lines); k != 0 {
			t.Fatalf("STORE .SILENT: %d FETCH responses", k)
		}
	})
}
