package imapd_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
)

// oddSet returns "1,3,5,...": as many single numbers as fit in a command
// line of about limit bytes, and how many that is.
func oddSet(limit int) (string, int) {
	var b strings.Builder
	n := 0
	for u := 1; b.Len() < limit; u += 2 {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(u))
		n++
	}
	return b.String(), n
}

// BenchmarkWireRanges100k sends UID FETCH and UID SEARCH with the longest
// number sets a command line may hold (some 7,000 ranges within 45 KiB)
// over a folder of 100,000 messages.
func BenchmarkWireRanges100k(b *testing.B) {
	e, _ := bigEnv(b, database.SQLite, 100000, nil)
	r := e.raw(true)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
	set, n := oddSet(45 << 10)
	b.Logf("%d ranges", n)
	b.Run("uid-fetch", func(b *testing.B) {
		for b.Loop() {
			if lines := r.expect("f", "UID FETCH "+set+" FLAGS", "OK"); len(lines) != n {
				b.Fatalf("fetched %d of %d", len(lines), n)
			}
		}
	})
	b.Run("uid-search", func(b *testing.B) {
		for b.Loop() {
			if lines := r.expect("h", "UID SEARCH UID "+set+" UNSEEN", "OK"); len(lines) != 1 {
				b.Fatalf("search %q", lines)
			}
		}
	})
	b.Run("search", func(b *testing.B) {
		for b.Loop() {
			if lines := r.expect("h", "SEARCH "+set+" UNSEEN", "OK"); len(lines) != 1 {
				b.Fatalf("search %q", lines)
			}
		}
	})
}
