package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestWebmailSenderWarning: a message the MX marked as coming from a
// hosted domain's address without authentication (mailsvc/smtpd: an
// Authentication-Results field with auth=none above its Received) shows a
// warning; the same field written by the sender below the Received does
// not, nor does a message without it.
func TestWebmailSenderWarning(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		const received = "Received: from client.test ([192.0.2.7])\r\n\tby mx.test (Postdesk) with ESMTP id 1.1.x; Mon, 07 Dec 2026 20:00:00 +0000\r\n"
		const mark = "Authentication-Results: mx.test; auth=none\r\n\treason=\"sender domain hosted here, client not authenticated\"\r\n\tsmtp.mailfrom=pm@a.test\r\n"
		body := func(subject string) string {
			return "From: Postmaster <pm@a.test>\r\nTo: ann@a.test\r\nSubject: " + subject + "\r\n\r\nPlease send your password.\r\n"
		}
		marked := f.deliver("ann@a.test", "", "Return-Path: <pm@a.test>\r\nDelivered-To: ann@a.test\r\n"+mark+received+body("marked"))
		forged := f.deliver("ann@a.test", "", received+strings.Replace(mark, "pm@a.test", "x@b.test", 1)+body("sender's own field"))
		plain := f.deliver("ann@a.test", "", received+body("authenticated"))
		inbox := f.folder("ann@a.test", "INBOX")
		c := f.client()
		c.login("ann@a.test")
		for _, tc := range []struct {
			uid  uint32
			want string
		}{{marked, "pm@a.test"}, {forged, ""}, {plain, ""}} {
			d, _ := c.get(fmt.Sprintf("/webmail/f/%d/m/%d", inbox.ID, tc.uid), http.StatusOK)
			w := d.Find(`[data-testid=sender-warning]`)
			switch {
			case tc.want == "" && w.Length() != 0:
				t.Errorf("message %d warns: %q", tc.uid, w.Text())
			case tc.want != "" && (w.Length() != 1 || !strings.Contains(w.Text(), tc.want) || !strings.Contains(w.Text(), "forged")):
				t.Errorf("message %d: warning %q, want one naming %s", tc.uid, w.Text(), tc.want)
			}
		}
	})
}
