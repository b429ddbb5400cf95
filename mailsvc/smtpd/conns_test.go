package smtpd_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
)

// TestConnectionCaps: past the per-address cap of the MX, of submission
// (587 and 465 together) and past the total over all listeners, a
// connection gets 421 4.7.0 instead of the greeting and is closed, one
// refusal after another (accepting never waits); a closed connection frees
// its place.
func TestConnectionCaps(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		greeted := func(what, line string) {
			t.Helper()
			if !strings.HasPrefix(line, "220 ") {
				t.Fatalf("%s: %q, want the greeting", what, line)
			}
		}
		refused := func(what string, c net.Conn, r *bufio.Reader, line, text string) {
			t.Helper()
			if !strings.HasPrefix(line, "421 4.7.0 ") || !strings.Contains(line, text) {
				t.Fatalf("%s: %q, want 421 4.7.0 ... %s", what, line, text)
			}
			if !mailtest.Closed(c, r) {
				t.Fatalf("%s: connection left open after 421", what)
			}
		}
		insecure := &tls.Config{InsecureSkipVerify: true} // the test certificate
		mx1, _, line := mailtest.DialFrom(t, "127.0.0.1", e.mx, nil)
		greeted("MX 1", line)
		_, _, line = mailtest.DialFrom(t, "127.0.0.1", e.mx, nil)
		greeted("MX 2", line)
		for i := 0; i < 3; i++ {
			c, r, line := mailtest.DialFrom(t, "127.0.0.1", e.mx, nil)
			refused("MX past the per-address cap", c, r, line, "from your address")
		}
		_, _, line = mailtest.DialFrom(t, "127.0.0.1", e.sub, nil)
		greeted("submission 1", line)
		c, r, line := mailtest.DialFrom(t, "127.0.0.1", e.sub, nil)
		refused("submission past the per-address cap", c, r, line, "from your address")
		c, r, line = mailtest.DialFrom(t, "127.0.0.1", e.subs, insecure)
		refused("submissions (465) shares submission's cap", c, r, line, "from your address")

		// 3 open: the total. Another address is refused too.
		c, r, line = mailtest.DialFrom(t, "127.0.0.2", e.mx, nil)
		refused("MX past the total", c, r, line, "Too many connections")

		mx1.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, _, line = mailtest.DialFrom(t, "127.0.0.2", e.mx, nil)
			if strings.HasPrefix(line, "220 ") || time.Now().After(deadline) {
				break
			}
			c.Close()
			time.Sleep(20 * time.Millisecond)
		}
		greeted("MX after a connection closed", line)
	}, func(c *smtpd.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP, c.MaxSubmissionConnectionsPerIP = 3, 2, 1
	})
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
