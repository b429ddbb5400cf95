package smtpd_test

import (
	"strings"
	"testing"
)

// TestSubmissionOriginators: submission refuses a second From or Sender
// (RFC 5322 3.6) with 554 5.6.0, and a Sender, Resent-From or
// Resent-Sender (newest resent block) that is not the login's with 550
// 5.7.1, as it does a From, and a header that does not read to its end
// (where a second From would hide) with 554 5.6.0; nothing refused is
// stored, the session goes on.
func TestSubmissionOriginators(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.sub)
		c.expect("EHLO client.test", 250, "")
		c.starttls()
		c.expect("EHLO client.test", 250, "")
		c.expect("AUTH PLAIN "+plain("john@example.test", pw), 235, "")
		body := "To: <ann@example.test>\r\nSubject: test\r\n\r\nbody\r\n.\r\n"
		for _, tc := range []struct {
			name, header, reply string
		}{
			{"second From", "From: <john@example.test>\r\nFrom: <ceo@b.test>\r\n", "554 5.6.0 Message has more than one From header"},
			{"second From, own", "From: <john@example.test>\r\nFROM: <john@example.test>\r\n", "554 5.6.0 Message has more than one From header"},
			{"second Sender", "From: <john@example.test>\r\nSender: <john@example.test>\r\nSender: <ceo@b.test>\r\n", "554 5.6.0 Message has more than one Sender header"},
			{"Sender of another", "From: <john@example.test>\r\nSender: <ceo@b.test>\r\n", "550 5.7.1 Sender header address not owned by the authenticated user"},
			{"Resent-From of another", "Resent-From: <ceo@b.test>\r\nFrom: <john@example.test>\r\n", "550 5.7.1 Resent-From header address not owned by the authenticated user"},
			{"Resent-Sender of another", "Resent-From: <john@example.test>\r\nResent-Sender: <ceo@b.test>\r\nFrom: <john@example.test>\r\n", "550 5.7.1 Resent-Sender header address not owned by the authenticated user"},
			{"From of another", "From: <ceo@b.test>\r\n", "550 5.7.1 From header address not owned by the authenticated user"},
			{"From behind a damaged line", "From: <john@example.test>\r\nnot a field\r\nFrom: <ceo@b.test>\r\n", "554 5.6.0 Message header malformed or too large"},
			{"From past 1 MiB of header", "From: <john@example.test>\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("x", 990)+"\r\n", 1100) + "From: <ceo@b.test>\r\n", "554 5.6.0 Message header malformed or too large"},
			{"own Sender and resent block", "Resent-From: <sales@example.test>\r\nResent-Sender: <john@alias.test>\r\nReceived: from x by y; Mon, 7 Dec 2026 20:00:00 +0000\r\n" +
				"Resent-From: <ceo@b.test>\r\nFrom: <john@example.test>\r\nSender: <sales@example.test>\r\n", "250 "},
		} {
			c.expect("MAIL FROM:<john@example.test>", 250, "")
			c.expect("RCPT TO:<ann@example.test>", 250, "")
			c.expect("DATA", 354, "")
			c.send(tc.header + body)
			if _, text := c.read(); !strings.HasPrefix(text, tc.reply) {
				t.Errorf("%s: got %q, want %q", tc.name, text, tc.reply)
			}
		}
		if n := len(e.stored("ann@example.test")); n != 1 {
			t.Errorf("ann has %d messages, want the one accepted", n)
		}
	}, nil)
}
