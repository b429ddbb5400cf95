package imapd_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// dialFrom connects from a given loopback address (all of 127/8 is
// loopback on Linux), over implicit TLS or not, and returns the
// connection and the first line the server sends, "" if it closes at
// once.
func (e *env) dialFrom(local string, implicitTLS bool) (*raw, string) {
	t := e.t
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	addr := e.addr
	if implicitTLS {
		addr = e.tlsAddr
	}
	c, err := d.Dial("tcp", addr)
	tcheck(t, err, "dial")
	t.Cleanup(func() { c.Close() })
	if implicitTLS {
		tc := tls.Client(c, e.clientTLS)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		tcheck(t, tc.Handshake(), "handshake")
		c = tc
	}
	r := &raw{t: t, conn: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := r.r.ReadString('\n')
	return r, strings.TrimRight(line, "\r\n")
}

// TestConnectionCaps: past the per-address cap (IMAP and IMAPS together)
// and past the total, a connection gets BYE [UNAVAILABLE] (RFC 9051
// 7.1.5, RFC 5530 3) instead of the greeting, over TLS on the implicit
// TLS port, and is closed; a closed connection frees its place. The caps
// do not touch the database, so one engine will do.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 3, 2
	})
	greeted := func(what, line string) {
		t.Helper()
		if !strings.HasPrefix(line, "* OK") {
			t.Fatalf("%s: %q, want the greeting", what, line)
		}
	}
	refused := func(what string, r *raw, line, want string) {
		t.Helper()
		if line != want {
			t.Fatalf("%s: %q, want %q", what, line, want)
		}
		r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := r.r.Read(make([]byte, 64)); n != 0 || err == nil {
			t.Fatalf("%s: connection left open after BYE", what)
		}
	}
	const perIP = "* BYE [UNAVAILABLE] Too many connections from your address, try again later"
	const total = "* BYE [UNAVAILABLE] Too many connections, try again later"

	first, line := e.dialFrom("127.0.0.1", false)
	greeted("IMAP 1", line)
	_, line = e.dialFrom("127.0.0.1", true)
	greeted("IMAPS 1", line)
	for i := 0; i < 3; i++ {
		r, line := e.dialFrom("127.0.0.1", false)
		refused("IMAP past the per-address cap", r, line, perIP)
	}
	r, line := e.dialFrom("127.0.0.1", true)
	refused("IMAPS shares IMAP's per-address cap", r, line, perIP)

	_, line = e.dialFrom("127.0.0.2", false)
	greeted("IMAP from another address", line)
	// 3 open: the total.
	r, line = e.dialFrom("127.0.0.3", true)
	refused("IMAPS past the total", r, line, total)

	first.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, line = e.dialFrom("127.0.0.3", true)
		if strings.HasPrefix(line, "* OK") || time.Now().After(deadline) {
			break
		}
		r.conn.Close()
		time.Sleep(20 * time.Millisecond)
	}
	greeted("IMAPS after a connection closed", line)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
}
