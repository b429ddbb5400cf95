package smtpd_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/mailsvc/mailtest"
)

// TestSieveAtSMTP: a recipient's Sieve script runs before the answer to
// DATA. Its reject (RFC 5429) is the 550 5.7.1 the client gets, with the
// script's reason and nothing stored; its fileinto files the message.
func TestSieveAtSMTP(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		john := addr("john@example.test")
		tcheck(t, e.ten.PutSieveScript(e.ctx, sys, john, "rules", `require ["reject", "fileinto"];
if header :contains "subject" "offer" { reject "No offers, thanks"; stop; }
if address :domain "from" "lists.test" { fileinto "Junk"; }
`), "put")
		tcheck(t, e.ten.SetActiveSieveScript(e.ctx, sys, john, "rules"), "activate")

		err := send(e.mx, "a@sender.test", []string{"john@example.test"}, msg("a@sender.test", "john@example.test", "an offer", ""))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) || !strings.Contains(se.Message, "No offers, thanks") {
			t.Errorf("reject: %v, want 550 5.7.1 with the script's reason", err)
		}
		tcheck(t, send(e.mx, "a@lists.test", []string{"john@example.test"}, msg("a@lists.test", "john@example.test", "digest", "")), "send digest")
		tcheck(t, send(e.mx, "a@sender.test", []string{"john@example.test"}, msg("a@sender.test", "john@example.test", "hello", "")), "send hello")
		if in := e.stored("john@example.test"); len(in) != 1 || !strings.Contains(in[0], "Subject: hello") {
			t.Errorf("INBOX holds %d messages, want hello only", len(in))
		}
		if junk := mailtest.Folder(t, e.ctx, e.st, e.ids["john@example.test"], "Junk"); len(junk) != 1 || !strings.Contains(junk[0], "Subject: digest") {
			t.Errorf("Junk holds %d messages, want the digest", len(junk))
		}
	}, nil)
}
