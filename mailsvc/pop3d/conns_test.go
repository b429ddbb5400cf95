package pop3d_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// dialFrom connects from a given loopback address (all of 127/8 is
// loopback on Linux), over implicit TLS or not, and returns the
// connection and the first line the server sends, "" if it closes at
// once.
func (e *env) dialFrom(local string, implicitTLS bool) (*conn, string) {
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
	p := &conn{t: t, c: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := p.r.ReadString('\n')
	return p, strings.TrimRight(line, "\r\n")
}

// TestConnectionCaps: past the per-address cap (POP3 and POP3S together)
// and past the total, a connection gets -ERR [SYS/TEMP] (RFC 3206)
// instead of the greeting, over TLS on the implicit TLS port, and is
// closed; a closed connection frees its place. The caps do not touch the
// database, so one engine will do.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *pop3d.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 3, 2
	})
	e.deliver("", msg1)
	greeted := func(what, line string) {
		t.Helper()
		if !strings.HasPrefix(line, "+OK") {
			t.Fatalf("%s: %q, want the greeting", what, line)
		}
	}
	refused := func(what string, p *conn, line, want string) {
		t.Helper()
		if line != want {
			t.Fatalf("%s: %q, want %q", what, line, want)
		}
		p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := p.r.Read(make([]byte, 64)); n != 0 || err == nil {
			t.Fatalf("%s: connection left open after -ERR", what)
		}
	}
	const perIP = "-ERR [SYS/TEMP] Too many connections from your address, try again later"
	const total = "-ERR [SYS/TEMP] Too many connections, try again later"

	first, line := e.dialFrom("127.0.0.1", false)
	greeted("POP3 1", line)
	_, line = e.dialFrom("127.0.0.1", true)
	greeted("POP3S 1", line)
	for i := 0; i < 3; i++ {
		p, line := e.dialFrom("127.0.0.1", false)
		refused("POP3 past the per-address cap", p, line, perIP)
	}
	p, line := e.dialFrom("127.0.0.1", true)
	refused("POP3S shares POP3's per-address cap", p, line, perIP)

	_, line = e.dialFrom("127.0.0.2", false)
	greeted("POP3 from another address", line)
	// 3 open: the total.
	p, line = e.dialFrom("127.0.0.3", true)
	refused("POP3S past the total", p, line, total)

	first.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, line = e.dialFrom("127.0.0.3", true)
		if strings.HasPrefix(line, "+OK") || time.Now().After(deadline) {
			break
		}
		p.c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	greeted("POP3S after a connection closed", line)
	p.login()
	p.cmd("STAT", "+OK 1 ")
}
