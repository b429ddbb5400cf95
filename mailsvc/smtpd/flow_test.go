package smtpd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
)

func (e *env) kinds(kind string) []queuedMsg {
	var out []queuedMsg
	for _, q := range e.queued() {
		if q.Kind == kind {
			out = append(out, q)
		}
	}
	return out
}

// TestResponder checks RFC 3834: answer once per sender and interval, with
// Auto-Submitted: auto-replied and a null sender; never to the null
// sender, automated mail, lists, the mailbox itself; only within its
// dates; never for catchrest mail.
func TestResponder(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		// A remote sender: the reply is queued, once.
		for i := 0; i < 2; i++ {
			tcheck(t, send(e.mx, "someone@remote.test", []string{"ann@example.test"}, msg("someone@remote.test", "ann@example.test", "hi", "")), "send")
		}
		rs := e.kinds(delivery.KindResponder)
		if len(rs) != 1 || rs[0].From != "" || len(rs[0].Rcpts) != 1 || rs[0].Rcpts[0] != "someone@remote.test" {
			t.Fatalf("responder replies queued: %+v, want one from <> to someone@remote.test", rs)
		}
		// A local sender: the reply is stored at once.
		for i := 0; i < 2; i++ {
			tcheck(t, send(e.mx, "john@example.test", []string{"ann@example.test"}, msg("john@example.test", "ann@example.test", "local", "")), "send local")
		}
		j := e.stored("john@example.test")
		if len(j) != 1 {
			t.Fatalf("john holds %d replies, want 1", len(j))
		}
		for _, want := range []string{"Return-Path: <>\r\n", "Auto-Submitted: auto-replied\r\n", "Subject: Away\r\n", "From: <ann@example.test>\r\n", "In-Reply-To: <", "Back Monday"} {
			if !strings.Contains(j[0], want) {
				t.Errorf("reply lacks %q:\n%s", want, j[0])
			}
		}
		// Mail the responder must not answer, each from a new sender.
		for _, tc := range []struct{ from, extra string }{
			{"", ""},
			{"a1@remote.test", "Auto-Submitted: auto-generated\r\n"},
			{"a2@remote.test", "Precedence: bulk\r\n"},
			{"a3@remote.test", "Precedence: list\r\n"},
			{"a4@remote.test", "List-Id: <list.remote.test>\r\n"},
			{"a5@remote.test", "List-Unsubscribe: <mailto:x@remote.test>\r\n"},
			{"mailer-daemon@remote.test", ""},
			{"owner-list@remote.test", ""},
			{"list-request@remote.test", ""},
			{"ann@alias.test", ""}, // the mailbox itself, through its alias domain
		} {
			tcheck(t, send(e.mx, tc.from, []string{"ann@example.test"}, msg("x@remote.test", "ann@example.test", "no reply", tc.extra)), "send "+tc.from)
		}
		if n := len(e.kinds(delivery.KindResponder)); n != 1 {
			t.Errorf("%d replies queued, want still 1", n)
		}
		// Auto-Submitted: no is a person's mail.
		tcheck(t, send(e.mx, "a6@remote.test", []string{"ann@example.test"}, msg("a6@remote.test", "ann@example.test", "person", "Auto-Submitted: no\r\n")), "send")
		if n := len(e.kinds(delivery.KindResponder)); n != 2 {
			t.Errorf("%d replies queued, want 2 after Auto-Submitted: no", n)
		}
		// Outside its dates.
		from := time.Now().Add(48 * time.Hour)
		tcheck(t, e.ten.SetResponder(e.ctx, sys, addr("ann@example.test"), tenants.ResponderInput{Enabled: true, Subject: "Later", Body: "x", StartsAt: &from}), "future responder")
		tcheck(t, send(e.mx, "a7@remote.test", []string{"ann@example.test"}, msg("a7@remote.test", "ann@example.test", "early", "")), "send")
		if n := len(e.kinds(delivery.KindResponder)); n != 2 {
			t.Errorf("a responder not yet started answered")
		}
		// Catchrest: a responder on the catchrest mailbox answers its own
		// address, not the unclaimed ones it catches.
		tcheck(t, e.ten.SetResponder(e.ctx, sys, addr("catchrest@c.test"), tenants.ResponderInput{Enabled: true, Subject: "C", Body: "c"}), "catchrest responder")
		tcheck(t, send(e.mx, "a8@remote.test", []string{"random@c.test"}, msg("a8@remote.test", "random@c.test", "caught", "")), "send")
		if n := len(e.kinds(delivery.KindResponder)); n != 2 {
			t.Errorf("a responder answered catchrest mail")
		}
		tcheck(t, send(e.mx, "a9@remote.test", []string{"catchrest@c.test"}, msg("a9@remote.test", "catchrest@c.test", "direct", "")), "send")
		if n := len(e.kinds(delivery.KindResponder)); n != 3 {
			t.Errorf("catchrest's responder did not answer mail to its own address")
		}
	}, nil)
}

// TestForwardSRS: a remote forward keeps the message, rewrites the sender
// with SRS and names the forwarder in Delivered-To; a bounce to the SRS
// address is reversed to the original sender; a forged one is refused.
func TestForwardSRS(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		tcheck(t, send(e.mx, "someone@remote.test", []string{"rfwd@example.test"}, msg("someone@remote.test", "rfwd@example.test", "fw", "")), "send")
		fs := e.kinds(delivery.KindForward)
		if len(fs) != 1 {
			t.Fatalf("forwards queued: %+v", fs)
		}
		f := fs[0]
		if !strings.HasPrefix(f.From, "SRS0=") || !strings.HasSuffix(f.From, "=remote.test=someone@example.test") ||
			len(f.Rcpts) != 1 || f.Rcpts[0] != "far@remote.test" || f.Prefix != "Delivered-To: rfwd@example.test\r\n" {
			t.Fatalf("forward envelope %+v", f)
		}
		if n := len(e.stored("rfwd@example.test")); n != 0 {
			t.Errorf("rfwd kept %d with store mail off", n)
		}
		// The bounce comes back to the SRS address (from <>), in any case.
		for _, rcpt := range []string{f.From, strings.ToUpper(f.From)} {
			tcheck(t, send(e.mx, "", []string{rcpt}, msg("mailer-daemon@remote.test", rcpt, "bounce", "")), "bounce "+rcpt)
		}
		bs := e.kinds(delivery.KindForward)[1:]
		if len(bs) != 2 || bs[0].From != "" || bs[0].Rcpts[0] != "someone@remote.test" {
			t.Fatalf("bounce not sent on to the original sender: %+v", bs)
		}
		// Forged hash, or another domain: refused.
		forged := "SRS0=aaaaaaaa" + f.From[13:]
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<>", 250, "")
		c.expect("RCPT TO:<"+forged+">", 550, "5.1.1")
		c.expect("RCPT TO:<"+strings.TrimSuffix(f.From, "example.test")+"elsewhere.test>", 550, "5.7.1")
		// An SRS address of a local original sender delivers locally.
		srs, err := delivery.LoadSRS(context.Background(), e.db, nil)
		tcheck(t, err, "srs")
		local := srs.Forward("john", "example.test", "example.test", e.ids["rfwd@example.test"])
		tcheck(t, send(e.mx, "", []string{local}, msg("mailer-daemon@remote.test", local, "bounce-local", "")), "local bounce")
		if n := len(e.stored("john@example.test")); n != 1 {
			t.Errorf("john holds %d, want the bounce", n)
		}
		// A long original address makes an SRS local part over 64 octets;
		// its bounce is still taken.
		long := srs.Forward(strings.Repeat("l", 40), "some.long.remote.test", "example.test", e.ids["rfwd@example.test"])
		tcheck(t, send(e.mx, "", []string{long}, msg("mailer-daemon@remote.test", "x@example.test", "bounce-long", "")), "long bounce")
	}, nil)
}
