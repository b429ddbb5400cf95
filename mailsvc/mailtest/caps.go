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
// The server must be set to a total of 3 connections and 2 per address.
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
}

// Check checks that past the per-address cap (both listeners together) and
// past the total a connection gets the refusal instead of the greeting,
// over TLS on the implicit-TLS listener, and is closed; and that a closed
// connection frees its place. It returns the connection that then got a
// place (over implicit TLS, from 127.0.0.3) and a reader on it, the
// greeting read, for the caller to show that it works.
func (c TwoPortCaps) Check(t testing.TB) (net.Conn, *bufio.Reader) {
	t.Helper()
	greeted := func(what, line string) {
		t.Helper()
		if !strings.HasPrefix(line, c.Greeting) {
			t.Fatalf("%s: %q, want the greeting", what, line)
		}
	}
	refused := func(what string, conn net.Conn, r *bufio.Reader, line, want string) {
		t.Helper()
		if line != want {
			t.Fatalf("%s: %q, want %q", what, line, want)
		}
		if !Closed(conn, r) {
			t.Fatalf("%s: connection left open after %q", what, line)
		}
	}

	first, _, line := DialFrom(t, "127.0.0.1", c.Addr, nil)
	greeted(c.Plain+" 1", line)
	_, _, line = DialFrom(t, "127.0.0.1", c.TLSAddr, c.TLS)
	greeted(c.Implicit+" 1", line)
	for i := 0; i < 3; i++ {
		conn, r, line := DialFrom(t, "127.0.0.1", c.Addr, nil)
		refused(c.Plain+" past the per-address cap", conn, r, line, c.PerIP)
	}
	conn, r, line := DialFrom(t, "127.0.0.1", c.TLSAddr, c.TLS)
	refused(c.Implicit+" shares "+c.Plain+"'s per-address cap", conn, r, line, c.PerIP)

	_, _, line = DialFrom(t, "127.0.0.2", c.Addr, nil)
	greeted(c.Plain+" from another address", line)
	// 3 open: the total.
	conn, r, line = DialFrom(t, "127.0.0.3", c.TLSAddr, c.TLS)
	refused(c.Implicit+" past the total", conn, r, line, c.Total)

	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, r, line = DialFrom(t, "127.0.0.3", c.TLSAddr, c.TLS)
		if strings.HasPrefix(line, c.Greeting) || time.Now().After(deadline) {
			break
		}
		conn.Close()
		time.Sleep(20 * time.Millisecond)
	}
	greeted(c.Implicit+" after a connection closed", line)
	return conn, r
}
