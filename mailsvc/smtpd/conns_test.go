package smtpd_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestConnectionCaps: past the per-address cap of the MX, of submission
// (587 and 465 together) a connection gets 421 4.7.0 instead of the
// greeting and is closed, one refusal after another (accepting never
// waits). The MX and submission have totals of their own: a flood of idle
// MX connections never refuses submission; at either total a new
// connection is greeted and the oldest idle one that has not logged in is
// closed, never one that has.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *smtpd.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 5, 2
		c.MaxSubmissionConnections, c.MaxSubmissionConnectionsPerIP = 5, 1
		c.AllowPlaintextAuth = true
	})
	type open struct {
		what string
		c    net.Conn
		r    *bufio.Reader
	}
	dial := func(what, from, addr string, tlsConfig *tls.Config) open {
		t.Helper()
		c, r, line := mailtest.DialFrom(t, from, addr, tlsConfig)
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("%s: %q, want the greeting", what, line)
		}
		return open{what, c, r}
	}
	refused := func(what, from, addr string, tlsConfig *tls.Config, text string) {
		t.Helper()
		c, r, line := mailtest.DialFrom(t, from, addr, tlsConfig)
		if !strings.HasPrefix(line, "421 4.7.0 ") || !strings.Contains(line, text) {
			t.Fatalf("%s: %q, want 421 4.7.0 ... %s", what, line, text)
		}
		if !mailtest.Closed(c, r) {
			t.Fatalf("%s: connection left open after 421", what)
		}
	}
	evicted := func(o open) {
		t.Helper()
		if !mailtest.Closed(o.c, o.r) {
			t.Fatalf("%s: not closed to make room", o.what)
		}
	}
	alive := func(o open) {
		t.Helper()
		(&raw{t: t, conn: o.c, r: o.r}).expect("NOOP", 250, "")
	}
	insecure := &tls.Config{InsecureSkipVerify: true} // the test certificate

	mx := []open{dial("MX 1", "127.0.0.1", e.mx, nil), dial("MX 2", "127.0.0.1", e.mx, nil)}
	for i := 0; i < 3; i++ {
		refused("MX past the per-address cap", "127.0.0.1", e.mx, nil, "from your address")
	}
	sub := dial("submission 1", "127.0.0.1", e.sub, nil)
	refused("submission past the per-address cap", "127.0.0.1", e.sub, nil, "from your address")
	refused("submissions (465) shares submission's cap", "127.0.0.1", e.subs, insecure, "from your address")

	// A flood on the MX: each new connection is greeted and the oldest
	// goes once 4 (80% of 5) are open.
	for i := 0; i < 10; i++ {
		mx = append(mx, dial(fmt.Sprintf("MX flood %d", i), fmt.Sprintf("127.0.0.%d", 2+i/2), e.mx, nil))
		if len(mx) > 4 {
			evicted(mx[0])
			mx = mx[1:]
		}
	}
	for _, o := range mx {
		alive(o)
	}
	// Submission is not touched: its connection logs in, and another
	// address gets a place.
	r := &raw{t: t, conn: sub.c, r: sub.r}
	r.expect("EHLO client.test", 250, "")
	r.expect("AUTH PLAIN "+plain("john@example.test", pw), 235, "")
	subs := []open{dial("submission during the MX flood", "127.0.20.1", e.sub, nil)}
	// A flood on submission evicts the oldest not logged in, never the
	// one that has. (From several /24s: the cap per network is 4 times
	// the per-address cap of 1.)
	for i := 0; i < 6; i++ {
		subs = append(subs, dial(fmt.Sprintf("submission flood %d", i), fmt.Sprintf("127.0.%d.1", 21+i), e.sub, nil))
		if len(subs) > 4 {
			evicted(subs[0])
			subs = subs[1:]
		}
	}
	alive(sub)
	r.expect("MAIL FROM:<john@example.test>", 250, "")
}

// TestPreAuthTimeout: a submission connection that sends NOOPs but never
// logs in is closed at the (here shortened) pre-authentication limit, and
// an MX connection at the MX's session limit; a logged-in submission
// connection stays.
func TestPreAuthTimeout(t *testing.T) {
	const limit = 300 * time.Millisecond
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *smtpd.Config) {
		c.PreAuthTimeout, c.MXSessionTimeout = limit, limit
		c.AllowPlaintextAuth = true
	})
	authed := dialRaw(t, e.sub)
	authed.expect("EHLO client.test", 250, "")
	authed.expect("AUTH PLAIN "+plain("john@example.test", pw), 235, "")
	for _, ep := range []struct{ name, addr string }{{"submission", e.sub}, {"MX", e.mx}} {
		c := dialRaw(t, ep.addr)
		c.expect("EHLO client.test", 250, "")
		closed := false
		for deadline := time.Now().Add(20 * limit); !closed && time.Now().Before(deadline); {
			if code, _ := c.cmd("NOOP"); code != 250 {
				closed = true // 0: EOF
			}
			time.Sleep(limit / 10)
		}
		if !closed {
			t.Fatalf("%s: a connection sending NOOPs was not closed", ep.name)
		}
	}
	authed.expect("NOOP", 250, "")
	authed.expect("MAIL FROM:<john@example.test>", 250, "")
}

// TestRcptFailureLimit: the 20th refused RCPT on a connection (the
// default) gets 421 4.7.0 and the connection closes; accepted recipients
// don't count.
func TestRcptFailureLimit(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		for i := 1; i < 20; i++ {
			c.expect("RCPT TO:<nobody"+string(rune('a'+i))+"@example.test>", 550, "5.1.1")
			c.expect("RCPT TO:<john@example.test>", 250, "")
		}
		c.expect("RCPT TO:<harvest@example.test>", 421, "4.7.0")
		if code, _ := c.read(); code != 0 {
			t.Errorf("connection still open after 421")
		}
	}, nil)
}

// TestFloodSparesData: on the MX, where nobody logs in, a flood evicts idle
// connections but never one whose message data is coming in; the message
// is then accepted.
func TestFloodSparesData(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *smtpd.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 5, -1
	})
	c := dialRaw(t, e.mx)
	c.expect("EHLO client.test", 250, "")
	c.expect("MAIL FROM:<a@remote.test>", 250, "")
	c.expect("RCPT TO:<john@example.test>", 250, "")
	c.expect("DATA", 354, "")
	c.send("From: <a@remote.test>\r\nTo: <john@example.test>\r\nSubject: slow\r\n\r\nfirst line\r\n")
	var flood []*raw
	for i := 0; i < 12; i++ {
		flood = append(flood, dialRaw(t, e.mx))
	}
	// The flood made room among its own: the oldest of it are gone.
	if code, _ := flood[0].read(); code != 0 {
		t.Fatalf("the oldest idle connection was not closed")
	}
	c.send("last line\r\n.\r\n")
	if code, text := c.read(); code != 250 {
		t.Fatalf("end of data: %q, want 250", text)
	}
	if got := e.stored("john@example.test"); len(got) != 1 || !strings.Contains(got[0], "last line") {
		t.Fatalf("stored %q", got)
	}
}
