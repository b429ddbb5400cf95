package pop3d_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestConnectionCaps: past the per-address cap (POP3 and POP3S together)
// a connection gets -ERR [SYS/TEMP] (RFC 3206) instead of the greeting,
// over TLS on the implicit TLS port, and is closed; at the total a new
// connection evicts the oldest that has not logged in, and only logged-in
// connections at the total refuse it; a closed connection frees its
// place. The caps do not touch the database, so one engine will do.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *pop3d.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 5, 2 // as mailtest.TwoPortCaps wants
		c.AllowPlaintextAuth = true
	})
	e.deliver("", msg1)
	// A mailbox per logged-in connection: POP3 locks a mailbox to one
	// session.
	users := e.users(5)
	c, r := mailtest.TwoPortCaps{
		Plain: "POP3", Implicit: "POP3S",
		Addr: e.addr, TLSAddr: e.tlsAddr, TLS: e.clientTLS,
		Greeting: "+OK",
		PerIP:    "-ERR [SYS/TEMP] Too many connections from your address, try again later",
		Total:    "-ERR [SYS/TEMP] Too many connections, try again later",
		Login: func(t testing.TB, c net.Conn, r *bufio.Reader) {
			p := &conn{t: t, c: c, r: r}
			p.cmd("USER "+users[0], "+OK")
			p.cmd("PASS "+password, "+OK")
			users = users[1:]
		},
		Alive: func(t testing.TB, c net.Conn, r *bufio.Reader) {
			(&conn{t: t, c: c, r: r}).cmd("NOOP", "+OK")
		},
	}.Check(t)
	p := &conn{t: t, c: c, r: r}
	p.login()
	p.cmd("STAT", "+OK 1 ")
}

// users makes n more mailboxes and returns their logins.
func (e *env) users(n int) []string {
	ctx := context.Background()
	d, _ := address.ParseDomain("example.test")
	var out []string
	for i := 0; i < n; i++ {
		l := fmt.Sprintf("user%d", i)
		_, err := e.ts.CreateMailbox(ctx, tenants.SystemScope("test"), tenants.NewMailbox{
			Address:  address.Address{Local: address.Localpart(l), Domain: d},
			Password: password, Settings: tenants.DefaultMailboxSettings()})
		tcheck(e.t, err, "mailbox")
		out = append(out, l+"@example.test")
	}
	return out
}

// TestPreAuthTimeout: a connection that sends NOOPs but never logs in is
// closed at the (here shortened) pre-authentication limit; one that has
// logged in stays.
func TestPreAuthTimeout(t *testing.T) {
	const limit = 300 * time.Millisecond
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *pop3d.Config) {
		c.PreAuthTimeout = limit
		c.AllowPlaintextAuth = true
	})
	authed := e.dial(false)
	authed.login()
	p := e.dial(false)
	var err error
	for deadline := time.Now().Add(20 * limit); err == nil && time.Now().Before(deadline); {
		// NOOP is a TRANSACTION command: before login it gets -ERR,
		// which is an answer all the same; CAPA is allowed.
		if _, err = fmt.Fprintf(p.c, "CAPA\r\n"); err != nil {
			break
		}
		for err == nil {
			var l string
			p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			l, err = p.r.ReadString('\n')
			if strings.TrimRight(l, "\r\n") == "." {
				break
			}
		}
		time.Sleep(limit / 10)
	}
	if err == nil {
		t.Fatalf("a connection sending commands was not closed before logging in")
	}
	authed.cmd("NOOP", "+OK")
	authed.cmd("STAT", "+OK")
}
