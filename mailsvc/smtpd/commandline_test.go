package smtpd_test

import (
	"strings"
	"testing"
)

// TestCommandLineLength: a command line over RFC 5321 4.5.3.1.4's 512
// octets gets 500 5.5.2 and the session goes on (go-smtp patch 8); MAIL
// and RCPT have room for extension parameters, and AUTH's initial response
// is bounded only by MaxLineLength (RFC 4954 4).
func TestCommandLineLength(t *testing.T) {
	// pad makes a command line n octets long with its CRLF.
	pad := func(line string, n int) string { return line + strings.Repeat("x", n-len(line)-2) }
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect(pad("NOOP ", 512), 250, "")
		c.expect(pad("NOOP ", 2003), 500, "5.5.2")
		c.expect(pad("HELO ", 600), 500, "5.5.2")
		c.expect("NOOP", 250, "")
		c.expect("MAIL FROM:<someone@remote.test> SIZE=2000 BODY=8BITMIME AUTH=<>"+strings.Repeat(" ", 700), 250, "")
		c.expect("RCPT TO:<john@example.test>", 250, "")
		c.expect("RSET", 250, "")
		c.expect(pad("MAIL FROM:<someone@remote.test> ", 512+1024+1), 500, "5.5.2")
		c.expect("MAIL FROM:<someone@remote.test>", 250, "")
		c.expect("QUIT", 221, "")

		s := dialRaw(t, e.sub)
		s.expect("EHLO client.test", 250, "")
		s.starttls()
		s.expect("EHLO client.test", 250, "")
		// A 4,000-octet initial response reaches the login check: a
		// wrong password, not a line too long.
		s.expect("AUTH PLAIN "+plain("john@example.test", strings.Repeat("p", 2900)), 535, "5.7.8")
		s.expect("AUTH PLAIN "+plain("john@example.test", pw), 235, "")
		s.expect(pad("NOOP ", 513), 500, "5.5.2")
		s.expect("MAIL FROM:<john@example.test>", 250, "")
	}, nil)
}
