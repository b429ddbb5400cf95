package imapd_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestConnectionCaps: past the per-address cap (IMAP and IMAPS together)
// a connection gets BYE [UNAVAILABLE] (RFC 9051 7.1.5, RFC 5530 3)
// instead of the greeting, over TLS on the implicit TLS port, and is
// closed; at the total a new connection evicts the oldest that has not
// logged in, and only logged-in connections at the total refuse it; a
// closed connection frees its place. The caps do not touch the database,
// so one engine will do.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) {
		c.AllowPlaintextAuth = true
		c.MaxConnections, c.MaxConnectionsPerIP = 5, 2 // as mailtest.TwoPortCaps wants
	})
	c, br := mailtest.TwoPortCaps{
		Plain: "IMAP", Implicit: "IMAPS",
		Addr: e.addr, TLSAddr: e.tlsAddr, TLS: e.clientTLS,
		Greeting: "* OK",
		PerIP:    "* BYE [UNAVAILABLE] Too many connections from your address, try again later",
		Total:    "* BYE [UNAVAILABLE] Too many connections, try again later",
		Login: func(t testing.TB, c net.Conn, r *bufio.Reader) {
			(&raw{t: t, conn: c, r: r}).login("john@example.test")
		},
		Alive: func(t testing.TB, c net.Conn, r *bufio.Reader) {
			(&raw{t: t, conn: c, r: r}).expect("n", "NOOP", "OK")
		},
	}.Check(t)
	r := &raw{t: t, conn: c, r: br}
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
}

// TestFloodEvictsUnauthenticated: the flood, scaled down. With a
// total of 10, connections that never log in (idle, a NOOP now and then)
// never shut a login out: each new connection gets its greeting and the
// oldest idle one that has not logged in is closed, never one that has;
// those not logged in never hold more than 8 (80%).
func TestFloodEvictsUnauthenticated(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) {
		c.AllowPlaintextAuth = true
		c.MaxConnections, c.MaxConnectionsPerIP = 10, -1
	})
	var authed []*raw
	for i := 0; i < 2; i++ {
		r := e.raw(false)
		r.login("john@example.test")
		authed = append(authed, r)
	}
	type flood struct {
		c net.Conn
		r *bufio.Reader
	}
	var open []flood
	for i := 0; i < 30; i++ {
		from := fmt.Sprintf("127.0.0.%d", 10+i%5)
		c, r, line := mailtest.DialFrom(t, from, e.addr, nil)
		if !strings.HasPrefix(line, "* OK") {
			t.Fatalf("flood connection %d: %q, want the greeting", i, line)
		}
		open = append(open, flood{c, r})
		if i%3 == 0 {
			// The flood's NOOP: it keeps nothing open.
			x := &raw{t: t, conn: c, r: r}
			x.expect("n", "NOOP", "OK")
		}
		if len(open) > 8 {
			if !mailtest.Closed(open[0].c, open[0].r) {
				t.Fatalf("flood connection %d: the oldest not logged in was not closed", i)
			}
			open = open[1:]
		}
	}
	// The newest 8 are still there, and so are the logged-in ones.
	for i, f := range open {
		(&raw{t: t, conn: f.c, r: f.r}).expect("n", "NOOP", "OK")
		_ = i
	}
	for _, a := range authed {
		a.expect("n", "NOOP", "OK")
		a.expect("s", "SELECT INBOX", "OK")
	}
	// And a new client logs in.
	r := e.raw(false)
	r.login("ann@example.test")
	r.expect("s", "SELECT INBOX", "OK")
}

// TestPreAuthTimeout: a connection that sends NOOPs but never logs in is
// closed at the (here shortened) pre-authentication limit; one that has
// logged in stays.
func TestPreAuthTimeout(t *testing.T) {
	const limit = 300 * time.Millisecond
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) {
		c.AllowPlaintextAuth = true
		c.PreAuthTimeout = limit
	})
	authed := e.raw(false)
	authed.login("john@example.test")
	r := e.raw(false)
	var err error
	for deadline := time.Now().Add(20 * limit); err == nil && time.Now().Before(deadline); {
		_, err = fmt.Fprintf(r.conn, "n NOOP\r\n")
		for err == nil {
			var l string
			r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			l, err = r.r.ReadString('\n')
			if strings.HasPrefix(l, "n ") {
				break
			}
		}
		time.Sleep(limit / 10)
	}
	if err == nil {
		t.Fatalf("a connection sending NOOPs was not closed before logging in")
	}
	// Past the limit many times over, the logged-in connection works.
	authed.expect("n", "NOOP", "OK")
	authed.expect("s", "SELECT INBOX", "OK")
}

// TestNetworkCap: connections from one /24 are capped at 4 times the
// per-address cap, whatever the address within it; another /24 is not
// touched; -1 for the per-address cap lifts both.
func TestNetworkCap(t *testing.T) {
	const perNet = "* BYE [UNAVAILABLE] Too many connections from your network, try again later"
	for _, tc := range []struct {
		name  string
		perIP int
	}{{"capped", 2}, {"lifted", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) {
				c.MaxConnections, c.MaxConnectionsPerIP = 100, tc.perIP
			})
			// 8 = 4 × 2 from 127.0.0.0/24, over 8 addresses.
			for i := 0; i < 8; i++ {
				_, _, line := mailtest.DialFrom(t, fmt.Sprintf("127.0.0.%d", 20+i), e.addr, nil)
				if !strings.HasPrefix(line, "* OK") {
					t.Fatalf("connection %d within the network's cap: %q", i, line)
				}
			}
			c, r, line := mailtest.DialFrom(t, "127.0.0.40", e.addr, nil)
			if tc.perIP == -1 {
				if !strings.HasPrefix(line, "* OK") {
					t.Fatalf("per-address cap -1: %q, want the greeting", line)
				}
			} else {
				if line != perNet {
					t.Fatalf("past the network's cap: %q, want %q", line, perNet)
				}
				if !mailtest.Closed(c, r) {
					t.Fatalf("left open after %q", line)
				}
			}
			_, _, line = mailtest.DialFrom(t, "127.0.1.1", e.addr, nil)
			if !strings.HasPrefix(line, "* OK") {
				t.Fatalf("from another /24: %q, want the greeting", line)
			}
		})
	}
}

// TestManySessionsOneUser: there is no cap per user: with the per-address
// cap lifted (-1), one user holds 1,000 sessions in IDLE from one address,
// the default total.
func TestManySessionsOneUser(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	const n = 1000
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) {
		c.AllowPlaintextAuth = true
		c.MaxConnectionsPerIP = -1
	})
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", e.addr)
		tcheck(t, err, "dial")
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(c)
		fmt.Fprintf(c, "a LOGIN john@example.test %s\r\nb SELECT INBOX\r\nc IDLE\r\n", quote(password))
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("session %d: %v", i, err)
			}
			if strings.HasPrefix(l, "a NO") || strings.HasPrefix(l, "b NO") || strings.HasPrefix(l, "* BYE") {
				t.Fatalf("session %d: %q", i, l)
			}
			if strings.HasPrefix(l, "+ ") {
				break
			}
		}
	}
}
