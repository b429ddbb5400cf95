package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSendLimitsShared: SMTP submission and webmail count against one
// set of send limits, delivery's, as serve wires them: recipients sent
// over SMTP leave webmail only the rest of the hour's limit, and the
// other way round; past it SMTP answers 451 4.7.1 at RCPT and webmail
// refuses with its words.
func TestSendLimitsShared(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		outbox := queue.NewOutbox(nil)
		d := delivery.New(delivery.Options{Tenants: f.ten, Store: f.st, Queue: outbox, Hostname: "mail.test",
			Limits: delivery.RateLimits{MailboxPerHour: 4}})
		s := smtpd.New(smtpd.Options{Config: smtpd.Config{Hostname: "mail.test", AllowPlaintextAuth: true},
			Tenants: f.ten, Deliverer: d, Blobs: f.st.Blobs(), DB: db})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		wmMust(t, err)
		done := make(chan error, 1)
		sub := s.Submission()
		go func() { done <- sub.Serve(l) }()
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			sub.Shutdown(ctx)
			<-done
		}()
		wm := &webmailSubmitter{deliverer: d, hostname: "mail.test", maxSize: 64 << 10, now: time.Now}
		login, err := f.ten.ResolveLogin(context.Background(), tenants.MailboxLogin, "carl@a.test", wmPW, "127.0.0.1")
		wmMust(t, err)
		msg := []byte("From: carl@a.test\r\nTo: ann@a.test\r\nSubject: limits\r\n\r\nhello\r\n")
		carl := address.Address{Local: "carl", Domain: "a.test"}
		ann, bob := address.Address{Local: "ann", Domain: "a.test"}, address.Address{Local: "bob", Domain: "b.test"}

		c, err := smtp.Dial(l.Addr().String())
		wmMust(t, err)
		defer c.Close()
		wmMust(t, c.Auth(sasl.NewPlainClient("", "carl@a.test", wmPW)))
		wmMust(t, c.SendMail("carl@a.test", []string{"ann@a.test", "bob@b.test"}, bytes.NewReader(msg)))
		// 2 of 4 sent over SMTP: webmail may send 2 more, not 3.
		err = wm.Submit(context.Background(), login, "127.0.0.1", carl, []address.Address{ann, bob, ann}, msg)
		var ue *webmail.SubmitError
		if !errors.Is(err, delivery.ErrRateLimited) || !errors.As(err, &ue) || ue.Refusal != webmail.RefusedRateLimit || !strings.Contains(ue.Message(), "You have sent as much mail") {
			t.Fatalf("webmail past the limit: %v, want the send limit", err)
		}
		wmMust(t, wm.Submit(context.Background(), login, "127.0.0.1", carl, []address.Address{ann, bob}, msg))
		// 4 of 4: SMTP refuses the next recipient.
		wmMust(t, c.Mail("carl@a.test", nil))
		var serr *smtp.SMTPError
		if err := c.Rcpt("ann@a.test", nil); !errors.As(err, &serr) || serr.Code != 451 || serr.EnhancedCode != (smtp.EnhancedCode{4, 7, 1}) {
			t.Errorf("SMTP past the limit webmail reached: %v, want 451 4.7.1", err)
		}
	})
}
