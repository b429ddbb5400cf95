package imapd_test

import (
	"strconv"
	"strings"
	"testing"
)

// TestSearchSmallerThenOtherKeys: SMALLER followed by a date key or LARGER
// keeps its bound. go-imap before v2.0.0-beta.9 dropped it
// (SearchCriteria.And), so SEARCH SMALLER n SENTON d also returned larger
// messages.
func TestSearchSmallerThenOtherKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.deliver(e.john, "", msgPlain)                                                                       // 1: small
		e.deliver(e.john, "", strings.Replace(msgPlain, "see you.", strings.Repeat("long line\r\n", 500), 1)) // 2: large, same date
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("S", "SELECT INBOX", "OK")
		bound := strconv.Itoa(len(msgPlain) + 100)
		for _, cmd := range []string{
			"SEARCH SMALLER " + bound + " SENTON 21-Nov-2026",
			"SEARCH SMALLER " + bound + " SINCE 1-Jan-2000",
			"SEARCH SMALLER " + bound + " LARGER 10",
			"SEARCH SENTON 21-Nov-2026 SMALLER " + bound,
		} {
			lines := r.expect("A", cmd, "OK")
			if !hasLine(lines, "* SEARCH 1") || hasLine(lines, "* SEARCH 1 2") {
				t.Errorf("%s: %q, want * SEARCH 1", cmd, lines)
			}
		}
	})
}
