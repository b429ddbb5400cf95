package smtpd_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// dsnMsg is a DSN as Postfix writes one (RFC 3464, RFC 6522), with pad
// octets of text in its human-readable part.
func dsnMsg(to string, pad int) string {
	return "From: MAILER-DAEMON@mx.remote.test (Mail Delivery System)\r\nTo: <" + to + ">\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" + strings.Repeat("padding padding\r\n", pad/17) +
		"\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.remote.test\r\n\r\n" +
		"Final-Recipient: rfc822; far@remote.test\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 mailbox full\r\n\r\n" +
		"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: fw\r\n\r\n--b1--\r\n"
}

// bounce sends body from the null sender to rcpt over a raw session and
// returns the reply that ended it: to RCPT when refused there, else to
// the end of data.
func bounce(t *testing.T, mx, rcpt, body string) (int, string) {
	t.Helper()
	c := dialRaw(t, mx)
	c.expect("EHLO bounce.remote.test", 250, "")
	c.expect("MAIL FROM:<>", 250, "")
	if code, text := c.cmd("RCPT TO:<" + rcpt + ">"); code != 250 {
		return code, text
	}
	c.expect("DATA", 354, "")
	c.send(body + ".\r\n")
	code, text := c.read()
	c.cmd("QUIT")
	return code, text
}

func wantReply(t *testing.T, what string, code int, text string, wantCode int, enhanced string) {
	t.Helper()
	if code != wantCode || !strings.Contains(text, " "+enhanced+" ") {
		t.Errorf("%s: got %q, want %d %s", what, text, wantCode, enhanced)
	}
}

// TestSRSBounceRelay: an SRS address of a remote forward is no relay. It
// takes only a delivery report, small, a few a day, and only while the
// forwarding mailbox exists, is active, forwards elsewhere and may send;
// each bounce counts against the mailbox's send limits. Before, any
// message from <> to the address reached the original sender, for 21
// days, whatever happened to the mailbox.
func TestSRSBounceRelay(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		remote := e.remote()
		rfwd := addr("rfwd@example.test")
		tcheck(t, send(e.mx, "someone@remote.test", []string{"rfwd@example.test"}, msg("someone@remote.test", "rfwd@example.test", "fw", "")), "send")
		got := remote.wait(t, 1)
		srs := got[0].From
		if !strings.HasPrefix(srs, "SRS0=") || !strings.HasSuffix(srs, "=remote.test=someone@example.test") {
			t.Fatalf("forward left with sender %q", srs)
		}
		sent := func() int64 {
			var n int64
			tcheck(t, e.db.Read(e.ctx).Table("submission_log").Where("mailbox_id = ?", e.ids["rfwd@example.test"]).Select("COALESCE(SUM(rcpts),0)").Scan(&n).Error, "count sends")
			return n
		}
		if n := sent(); n != 1 {
			t.Errorf("the forward counted %d sends, want 1", n)
		}

		// Not a delivery report: phishing in HTML, a plain message, plain
		// text from a MAILER-DAEMON naming no failure, a report of another
		// type, a multipart/report without a delivery-status part.
		for _, body := range []string{
			"From: <security@bank.test>\r\nTo: <someone@remote.test>\r\nSubject: Verify your account\r\nContent-Type: text/html\r\n\r\n<a href=\"http://evil.test\">log in</a>\r\n",
			msg("friend@elsewhere.test", "someone@remote.test", "hello", ""),
			msg("MAILER-DAEMON@mx.remote.test", "someone@remote.test", "Your invoice", ""),
			strings.Replace(dsnMsg("someone@remote.test", 0), "report-type=delivery-status", "report-type=disposition-notification", 1),
			strings.Replace(dsnMsg("someone@remote.test", 0), "message/delivery-status", "text/plain", 1),
		} {
			code, text := bounce(t, e.mx, srs, body)
			wantReply(t, "non-report", code, text, 550, "5.7.1")
		}
		// A real DSN passes, once.
		code, text := bounce(t, e.mx, srs, dsnMsg("someone@remote.test", 0))
		wantReply(t, "DSN", code, text, 250, "2.0.0")
		got = remote.wait(t, 2)
		if len(got) != 2 || got[1].From != "" || len(got[1].Rcpts) != 1 || got[1].Rcpts[0] != "someone@remote.test" ||
			!strings.Contains(got[1].Data, "message/delivery-status") {
			t.Fatalf("remote MX received %+v, want the DSN from <> to someone@remote.test", got[1:])
		}
		// A classic bounce (qmail's) passes too.
		code, text = bounce(t, e.mx, srs, msg("MAILER-DAEMON@mx.remote.test", "someone@remote.test", "failure notice", ""))
		wantReply(t, "classic bounce", code, text, 250, "2.0.0")
		remote.wait(t, 3)
		if n := sent(); n != 3 {
			t.Errorf("rfwd counted %d sends, want 3 (the forward and two bounces)", n)
		}

		// Over the size bound: declared, or found after DATA.
		c := dialRaw(t, e.mx)
		c.expect("EHLO bounce.remote.test", 250, "")
		c.expect("MAIL FROM:<> SIZE=200000", 250, "")
		c.expect("RCPT TO:<"+srs+">", 552, "5.3.4")
		c.expect("QUIT", 221, "")
		code, text = bounce(t, e.mx, srs, dsnMsg("someone@remote.test", delivery.MaxSRSBounceSize))
		wantReply(t, "big DSN", code, text, 552, "5.3.4")

		// The cap per SRS address: SRSBouncesPerDay a day, two used.
		for i := 2; i < delivery.SRSBouncesPerDay; i++ {
			code, text = bounce(t, e.mx, srs, dsnMsg("someone@remote.test", 0))
			wantReply(t, "DSN "+strconv.Itoa(i+1), code, text, 250, "2.0.0")
		}
		code, text = bounce(t, e.mx, srs, dsnMsg("someone@remote.test", 0))
		wantReply(t, "DSN over the cap", code, text, 451, "4.7.1")
		if n := len(remote.wait(t, 1+delivery.SRSBouncesPerDay)); n != 1+delivery.SRSBouncesPerDay {
			t.Errorf("remote MX received %d, want the forward and %d bounces", n, delivery.SRSBouncesPerDay)
		}

		// A fresh address of the same forward, for the mailbox rules.
		s2, err := delivery.LoadSRS(e.ctx, e.db, nil)
		tcheck(t, err, "srs")
		fresh := s2.Forward("other", "remote.test", "example.test", e.ids["rfwd@example.test"])
		code, text = bounce(t, e.mx, fresh, dsnMsg("other@remote.test", 0))
		wantReply(t, "fresh address", code, text, 250, "2.0.0")
		// Its id tampered with (john's): the MAC fails, and it is an
		// unknown local part.
		i := len("SRS0=") + 8
		tampered := fresh[:i] + strconv.FormatInt(e.ids["john@example.test"], 32) + fresh[strings.IndexByte(fresh[i:], '=')+i:]
		code, text = bounce(t, e.mx, tampered, dsnMsg("other@remote.test", 0))
		wantReply(t, "tampered id", code, text, 550, "5.1.1")
		// Expired: written eight days ago.
		old, err := delivery.LoadSRS(e.ctx, e.db, func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) })
		tcheck(t, err, "old srs")
		code, text = bounce(t, e.mx, old.Forward("other", "remote.test", "example.test", e.ids["rfwd@example.test"]), dsnMsg("other@remote.test", 0))
		wantReply(t, "expired", code, text, 550, "5.7.1")

		// The mailbox rules, each undone after.
		yes, no := true, false
		past := time.Now().Add(-time.Hour)
		for _, tc := range []struct {
			what       string
			do, undo   tenants.MailboxUpdate
			forwards   []address.Address
			restoreFwd bool
		}{
			{what: "may not send", do: tenants.MailboxUpdate{MaySend: &no}, undo: tenants.MailboxUpdate{MaySend: &yes}},
			{what: "disabled", do: tenants.MailboxUpdate{Active: &no}, undo: tenants.MailboxUpdate{Active: &yes}},
			{what: "expired", do: tenants.MailboxUpdate{ExpiresAt: &past}, undo: tenants.MailboxUpdate{ClearExpiry: true}},
			{what: "forwards only locally", forwards: []address.Address{addr("john@example.test")}, restoreFwd: true},
		} {
			if tc.forwards != nil {
				tcheck(t, e.ten.SetForwards(e.ctx, sys, rfwd, tc.forwards, false), tc.what)
			} else {
				_, err := e.ten.UpdateMailbox(e.ctx, sys, rfwd, tc.do)
				tcheck(t, err, tc.what)
			}
			code, text = bounce(t, e.mx, fresh, dsnMsg("other@remote.test", 0))
			wantReply(t, tc.what, code, text, 550, "5.7.1")
			if tc.restoreFwd {
				tcheck(t, e.ten.SetForwards(e.ctx, sys, rfwd, []address.Address{addr("far@remote.test")}, false), "restore forwards")
			} else {
				_, err := e.ten.UpdateMailbox(e.ctx, sys, rfwd, tc.undo)
				tcheck(t, err, "undo "+tc.what)
			}
			code, text = bounce(t, e.mx, fresh, dsnMsg("other@remote.test", 0))
			wantReply(t, "after undoing "+tc.what, code, text, 250, "2.0.0")
		}
		// Deleted.
		tcheck(t, e.ten.DeleteMailbox(e.ctx, sys, rfwd), "delete")
		code, text = bounce(t, e.mx, fresh, dsnMsg("other@remote.test", 0))
		wantReply(t, "deleted", code, text, 550, "5.7.1")
	}, nil)
}

// TestSRSBounceSendLimit: a bounce through an SRS address counts against
// the forwarding mailbox's send limits, with the forward itself: past
// them the next one is refused at RCPT.
func TestSRSBounceSendLimit(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnvWith(t, db, envOptions{limits: delivery.RateLimits{MailboxPerHour: 2, MailboxPerDay: 100, DomainPerHour: 100, DomainPerDay: 1000}})
		tcheck(t, send(e.mx, "someone@remote.test", []string{"rfwd@example.test"}, msg("someone@remote.test", "rfwd@example.test", "fw", "")), "send")
		fs := e.kinds(delivery.KindForward)
		if len(fs) != 1 {
			t.Fatalf("forwards queued: %+v", fs)
		}
		code, text := bounce(t, e.mx, fs[0].From, dsnMsg("someone@remote.test", 0))
		wantReply(t, "bounce within the limit", code, text, 250, "2.0.0")
		code, text = bounce(t, e.mx, fs[0].From, dsnMsg("someone@remote.test", 0))
		wantReply(t, "bounce past the mailbox's hourly limit", code, text, 451, "4.7.1")
		if n := len(e.kinds(delivery.KindForward)); n != 2 {
			t.Errorf("%d forward-kind envelopes queued, want the forward and one bounce", n)
		}
	})
}
