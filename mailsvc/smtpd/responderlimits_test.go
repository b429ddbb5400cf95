package smtpd_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestResponderSendsOnlyWithinSendRights: a responder's reply to another
// server is mail the mailbox sends: it needs the send permission and
// counts against the send limits submission counts against (one limiter).
// Before, a mailbox that may not send answered any outside sender, up to
// 50 an hour, counted nowhere. Replies to local senders stay here and
// are neither refused nor counted.
func TestResponderSendsOnlyWithinSendRights(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnvWith(t, db, envOptions{limits: delivery.RateLimits{MailboxPerHour: 3, MailboxPerDay: 100, DomainPerHour: 100, DomainPerDay: 1000}})
		ask := func(from, to string) {
			t.Helper()
			tcheck(t, send(e.mx, from, []string{to}, msg(from, to, "question from "+from, "")), "send "+from)
		}
		replies := func() []string {
			var to []string
			for _, q := range e.kinds(delivery.KindResponder) {
				to = append(to, q.Rcpts...)
			}
			return to
		}
		sent := func(a string) int64 {
			var n int64
			tcheck(t, e.db.Read(e.ctx).Table("submission_log").Where("mailbox_id = ?", e.ids[a]).Select("COALESCE(SUM(rcpts),0)").Scan(&n).Error, "count sends")
			return n
		}

		// May not send: no reply leaves; a local sender still gets one.
		tcheck(t, e.ten.SetResponder(e.ctx, sys, addr("nosend@example.test"), tenants.ResponderInput{Enabled: true, Subject: "Away", Body: "Back Monday"}), "responder")
		ask("s1@remote.test", "nosend@example.test")
		if r := replies(); len(r) != 0 {
			t.Errorf("a mailbox that may not send answered %v", r)
		}
		ask("john@example.test", "nosend@example.test")
		if n := len(e.stored("john@example.test")); n != 1 {
			t.Errorf("john holds %d replies, want 1", n)
		}

		// The send limit (3 an hour): ann's reply counts one, her two
		// submissions two, and then she answers no one outside.
		ask("s2@remote.test", "ann@example.test")
		if r := replies(); len(r) != 1 || r[0] != "s2@remote.test" {
			t.Fatalf("replies %v, want one to s2@remote.test", r)
		}
		if n := sent("ann@example.test"); n != 1 {
			t.Errorf("the reply counted %d sends, want 1", n)
		}
		c := e.submitClient(t, "ann@example.test")
		for i := 0; i < 2; i++ {
			tcheck(t, sendOn(c, "ann@example.test", []string{fmt.Sprintf("friend%d@remote.test", i)}, msg("ann@example.test", "friend@remote.test", "hi", "")), "submit")
		}
		// The limiter now refuses her submissions, as it does her replies.
		tcheck(t, c.Mail("ann@example.test", nil), "mail")
		if err := c.Rcpt("friend9@remote.test", nil); code(err) != 451 {
			t.Errorf("submission past the limit: %v, want 451", err)
		}
		c.Close()
		ask("s3@remote.test", "ann@example.test")
		if r := replies(); len(r) != 1 {
			t.Errorf("replies %v past the send limit, want still one", r)
		}
		if n := sent("ann@example.test"); n != 3 {
			t.Errorf("ann counted %d sends, want 3", n)
		}
		// A local sender still gets an answer, uncounted.
		ask("fwd@example.test", "ann@example.test")
		found := false
		for _, m := range e.stored("john@example.test") {
			found = found || strings.Contains(m, "Auto-Submitted: auto-replied") && strings.Contains(m, "From: <ann@example.test>")
		}
		if !found {
			t.Errorf("the local sender (fwd, forwarding to john) got no reply")
		}
		if n := sent("ann@example.test"); n != 3 {
			t.Errorf("ann counted %d sends after a local reply, want 3", n)
		}
	})
}
