package smtpd_test

import (
	"testing"
)

// TestUnqualifiedPaths: a dotless domain is valid syntax (RFC 5321 4.1.2),
// so it is refused for what it is, in Postfix's words (504 5.5.2 "need
// fully-qualified address"), not as bad syntax; bad syntax stays 501.
func TestUnqualifiedPaths(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		if text := c.expect("MAIL FROM:<root@vm>", 504, "5.5.2"); text != "504 5.5.2 <root@vm>: Sender address rejected: need fully-qualified address" {
			t.Errorf("MAIL FROM:<root@vm> = %q", text)
		}
		c.expect("MAIL FROM:<root@a..test>", 501, "5.1.7")
		c.expect("MAIL FROM:<someone@remote.test>", 250, "")
		if text := c.expect("RCPT TO:<john@localhost>", 504, "5.5.2"); text != "504 5.5.2 <john@localhost>: Recipient address rejected: need fully-qualified address" {
			t.Errorf("RCPT TO:<john@localhost> = %q", text)
		}
		c.expect("RCPT TO:<john@example.test>", 250, "")
	}, nil)
}
