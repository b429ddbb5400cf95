package mailtest

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// TwoPortCaps is the connection-cap check of a server with a plain and an
// implicit-TLS listener (IMAP and IMAPS, POP3 and POP3S) that count against
// one per-address cap and one total, both enforced by mailsvc/connlimit.
// The server must be set to a total of 5 connections and 2 per address.
type TwoPortCaps struct {
	// Plain and Implicit name the two listeners in failures: "IMAP",
	// "IMAPS".
	Plain, Implicit string
	// Addr and TLSAddr are the listeners' addresses; TLS is the client's
	// configuration for TLSAddr.
	Addr, TLSAddr string
	TLS           *tls.Config
	// Greeting is how the greeting starts: "* OK", "+OK".
	Greeting string
	// PerIP and Total are the whole line a connection gets instead of the
	// greeting past the per-address cap and past the total.
	PerIP, Total string
	// Login logs a greeted connection in, failing the test if it can't.
	Login func(t testing.TB, c net.Conn, r *bufio.Reader)
	// Alive checks that a logged-in connection still answers.
	Alive func(t testing.TB, c net.Conn, r *bufio.Reader)
}

type capsConn struct {
	what string
	c    net.Conn
	r    *bufio.Reader
}

// Check checks that past the per-address cap (both listeners together) a
// connection gets the refusal instead of the greeting, over TLS on the
// implicit-TLS listener, and is closed; that at the total a new connection
// is greeted and the oldest connection that has not logged in is closed
// instead, never one that has; that once logged-in connections hold the
// whole total a new one gets the refusal; and that a closed connection
// frees its place. It returns the connection that then got a place (over
// implicit TLS, from 127.0.0.9) and a reader on it, the greeting read.
func (c TwoPortCaps) Check(t testing.TB) (net.Conn, *bufio.Reader) {
	t.Helper()
	dial := func(what, from, addr string, tlsConfig *tls.Config) capsConn {
		t.Helper()
		conn, r, line := DialFrom(t, from, addr, tlsConfig)
		if !strings.HasPrefix(line, c.Greeting) {
			t.Fatalf("%s: %q, want the greeting", what, line)
		}
		return capsConn{what, conn, r}
	}
	refused := func(what, from, addr string, tlsConfig *tls.Config, want string) {
		t.Helper()
		conn, r, line := DialFrom(t, from, addr, tlsConfig)
		if line != want {
			t.Fatalf("%s: %q, want %q", what, line, want)
		}
		if !Closed(conn, r) {
			t.Fatalf("%s: connection left open after %q", what, line)
		}
	}
	evicted := func(x capsConn) {
		t.Helper()
		if !Closed(x.c, x.r) {
			t.Fatalf("%s: not closed to make room", x.what)
		}
	}

	authed := dial(c.Plain+" 1", "127.0.0.1", c.Addr, nil)
	unauth := []capsConn{dial(c.Implicit+" 1", "127.0.0.1", c.TLSAddr, c.TLS)}
	for i := 0; i < 3; i++ {
		refused(c.Plain+" past the per-address cap", "127.0.0.1", c.Addr, nil, c.PerIP)
	}
	refused(c.Implicit+" shares "+c.Plain+"'s per-address cap", "127.0.0.1", c.TLSAddr, c.TLS, c.PerIP)
	c.Login(t, authed.c, authed.r)

	// 1 logged in, then 4 not (80% of the total), 5 open: the total. Each
	// further connection gets the greeting and the oldest that has not
	// logged in is closed.
	unauth = append(unauth, dial(c.Plain+" from 127.0.0.2", "127.0.0.2", c.Addr, nil),
		dial(c.Implicit+" from 127.0.0.2", "127.0.0.2", c.TLSAddr, c.TLS),
		dial(c.Plain+" from 127.0.0.3", "127.0.0.3", c.Addr, nil))
	for _, from := range []string{"127.0.0.3", "127.0.0.4", "127.0.0.4"} {
		unauth = append(unauth, dial(c.Plain+" at the total from "+from, from, c.Addr, nil))
		evicted(unauth[0])
		unauth = unauth[1:]
	}
	c.Alive(t, authed.c, authed.r)

	// All log in: now the total refuses.
	for _, u := range unauth {
		c.Login(t, u.c, u.r)
	}
	refused(c.Implicit+" past a total of logged-in connections", "127.0.0.5", c.TLSAddr, c.TLS, c.Total)
	c.Alive(t, authed.c, authed.r)

	authed.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, r, line := DialFrom(t, "127.0.0.9", c.TLSAddr, c.TLS)
		if strings.HasPrefix(line, c.Greeting) {
			return conn, r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after a connection closed: %q, want the greeting", c.Implicit, line)
		}
		conn.Close()
		time.Sleep(20 * time.Millisecond)
	}
}
