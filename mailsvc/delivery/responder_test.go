package delivery_test

import (
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestResponderNotAReflector: a responder answers only mail whose To or Cc
// names one of its mailbox's addresses (RFC 3834 2), and at most
// tenants.MaxResponderRepliesPerHour senders an hour. Before, any message
// with a (forged) sender made it send a reply to that sender.
func TestResponderNotAReflector(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		f.mailbox("ann@example.test", nil)
		tcheck(t, f.ten.SetResponder(f.ctx, sys, addr("ann@example.test"), tenants.ResponderInput{Enabled: true, Subject: "Away", Body: "Back Monday"}), "responder")
		send := func(from, to, extra string) {
			t.Helper()
			_, err := f.deliver(from, []string{"ann@example.test"}, msg(from, to, "hello", extra))
			tcheck(t, err, "deliver")
		}
		replies := func() int { return f.queuedRcpts(delivery.KindResponder) }

		// Bcc, or an envelope recipient the header does not name.
		send("s1@remote.test", "someone@else.test", "")
		send("s2@remote.test", "undisclosed-recipients:;", "")
		if n := replies(); n != 0 {
			t.Fatalf("%d replies to mail not addressed to ann", n)
		}
		// To, Cc, a subaddress, with display names.
		send("s3@remote.test", "ann@example.test", "")
		send("s4@remote.test", "someone@else.test", "Cc: Other <o@else.test>, \"Ann A.\" <ANN+news@example.test>\r\n")
		if n := replies(); n != 2 {
			t.Fatalf("%d replies, want 2", n)
		}
		// The hourly limit, over distinct senders.
		for i := 2; i < tenants.MaxResponderRepliesPerHour+5; i++ {
			send(fmt.Sprintf("many%d@remote.test", i), "ann@example.test", "")
		}
		if n := replies(); n != tenants.MaxResponderRepliesPerHour {
			t.Errorf("%d replies in an hour, want %d", n, tenants.MaxResponderRepliesPerHour)
		}
		if n := f.count("ann@example.test"); n != int64(tenants.MaxResponderRepliesPerHour+7) {
			t.Errorf("ann holds %d, want every message", n)
		}
	})
}
