package imapd_test

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
)

// writeCounter counts the writes to the connections it accepts.
type writeCounter struct {
	net.Listener
	writes *atomic.Int64
}

func (l writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countedConn{c, l.writes}, err
}

type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countedConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestFetchCoalesced: FETCH 1:* FLAGS on a large folder goes out in a few
// writes to the connection (go-imap coalesces, third_party/go-imap
// PATCHES.md 3), not one per message.
func TestFetchCoalesced(t *testing.T) {
	const n = 2000
	e, _ := bigEnv(t, database.SQLite, n, func(c *imapd.Config) { c.AllowPlaintextAuth = true })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "listen")
	var writes atomic.Int64
	go e.srv.Serve(writeCounter{ln, &writes})

	c, err := net.Dial("tcp", ln.Addr().String())
	tcheck(t, err, "dial")
	t.Cleanup(func() { c.Close() })
	r := &raw{t: t, conn: c, r: bufio.NewReader(c)}
	if g := r.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q", g)
	}
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")

	before := writes.Load()
	lines := r.expect("f", "FETCH 1:* FLAGS", "OK")
	if len(lines) != n {
		t.Fatalf("%d FETCH responses, want %d", len(lines), n)
	}
	// About 40 octets a message: 80 KB, which fits a handful of 16 KiB
	// batches.
	if w := writes.Load() - before; w > 20 {
		t.Errorf("FETCH of %d messages took %d writes", n, w)
	}
}
