package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// testSubmitter is the submission path serve builds: delivery with the
// outbound queue (not run: queued mail stays in its tables) and its send
// limits, here 6 recipients a mailbox an hour.
func testSubmitter(f *wmFx) submitter { return submitterWithLimit(6)(f) }

// submitterWithLimit is testSubmitter with perHour recipients a mailbox an
// hour.
func submitterWithLimit(perHour int64) func(f *wmFx) submitter {
	return func(f *wmFx) submitter { return newTestSubmitter(f, perHour) }
}

func newTestSubmitter(f *wmFx, perHour int64) submitter {
	outbox := queue.NewOutbox(nil)
	d := delivery.New(delivery.Options{Tenants: f.ten, Store: f.st, Queue: outbox, Hostname: "mail.test",
		Limits: delivery.RateLimits{MailboxPerHour: perHour}})
	return &webmailSubmitter{deliverer: d, hostname: "mail.test", maxSize: 64 << 10, now: time.Now}
}

// testSend sends as carl: to a local mailbox, to a remote one through the
// queue, with Bcc, from an alias; refusals the user can act on.
func testSend(t *testing.T, f *wmFx) {
	ctx := context.Background()
	c := f.client()
	c.login("carl@a.test")
	c.get("/webmail/compose", http.StatusOK)
	rec := c.postMultipart("/webmail/compose", url.Values{"action": {"send"}, "from": {"carl@a.test"},
		"to": {"Ann Example <ann@a.test>"}, "cc": {"far@remote.test"}, "bcc": {"bob@b.test"},
		"subject": {"Grüße from webmail"}, "body": {"Hello Ann,\nsee the file.\n"}}, []upload{{"plan.txt", "the plan"}}, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != fmt.Sprintf("/webmail/f/%d", f.folder("carl@a.test", "INBOX").ID) {
		t.Fatalf("send went to %q", loc)
	}
	// Delivered to ann (local) and bob (Bcc, another domain here), queued
	// for the remote Cc, a copy in carl's Sent that alone shows the Bcc.
	var got string
	for _, m := range f.messages("ann@a.test", "INBOX") {
		if b := f.body(m); strings.Contains(b, "Gr=C3=BC=C3=9Fe from webmail") || strings.Contains(b, "=?utf-8?q?Gr=C3=BC=C3=9Fe_from_webmail?=") {
			got = b
		}
	}
	if got == "" || !strings.Contains(got, "Received: from [192.0.2.20]") || !strings.Contains(got, "Postdesk webmail") ||
		strings.Contains(got, "bob@b.test") || !strings.Contains(got, "plan.txt") || strings.Contains(got, "\tfor <") {
		t.Errorf("ann received %q", got)
	}
	if bob := f.messages("bob@b.test", "INBOX"); len(bob) != 1 || strings.Contains(f.body(bob[0]), "Bcc") {
		t.Errorf("bob (Bcc) received %d messages", len(bob))
	}
	sent := f.messages("carl@a.test", "Sent")
	if len(sent) != 1 || !sent[0].Seen || !strings.Contains(f.body(sent[0]), "Bcc: <bob@b.test>") || strings.Contains(f.body(sent[0]), "Received:") {
		t.Errorf("carl's Sent: %d messages", len(sent))
	}
	// Sent lists recipients, under a "To" heading.
	d, _ := c.get(fmt.Sprintf("/webmail/f/%d", f.folder("carl@a.test", "Sent").ID), http.StatusOK)
	if h, cell := strings.TrimSpace(d.Find(`[data-testid=correspondent]`).Text()), d.Find(`table.messages tbody tr td`).Eq(1).Text(); h != "To" || !strings.Contains(cell, "ann@a.test") || strings.Contains(cell, "To:") {
		t.Errorf("Sent list: heading %q over %q", h, cell)
	}
	var queued []string
	wmMust(t, f.db.Read(ctx).Table("queue_recipients").Pluck("rcpt", &queued).Error)
	if len(queued) != 1 || queued[0] != "far@remote.test" {
		t.Errorf("queued %v, want the remote Cc", queued)
	}

	// Reply, marking the original answered; from an alias of one's own.
	orig := f.deliver("carl@a.test", "", wmSimple("Ann Example <ann@a.test>", "question", "Well?"))
	inbox := f.folder("carl@a.test", "INBOX")
	d, _ = c.get(fmt.Sprintf("/webmail/f/%d", inbox.ID), http.StatusOK)
	if h := strings.TrimSpace(d.Find(`[data-testid=correspondent]`).Text()); h != "From" {
		t.Errorf("INBOX list: heading %q", h)
	}
	r := fmt.Sprintf("%d/%d", inbox.ID, orig)
	d, _ = c.get("/webmail/compose?reply="+r, http.StatusOK)
	form := url.Values{"action": {"send"}, "from": {"carl@a.test"}, "answering": {r}}
	for _, k := range []string{"to", "subject", "in_reply_to", "references"} {
		v, _ := d.Find(`[name=` + k + `]`).Attr("value")
		form.Set(k, v)
	}
	form.Set("body", d.Find(`#body`).Text())
	c.postMultipart("/webmail/compose", form, nil, http.StatusSeeOther)
	m, err := f.st.Message(ctx, f.boxes["carl@a.test"].ID, inbox.ID, orig)
	wmMust(t, err)
	if !m.Answered {
		t.Error("replied message not marked answered")
	}
	var reply string
	for _, m := range f.messages("ann@a.test", "INBOX") {
		if b := f.body(m); strings.Contains(b, "Subject: Re: question") {
			reply = b
		}
	}
	// One recipient: the trace names it (RFC 5321 4.4 FOR), not the sender.
	if !strings.Contains(reply, "In-Reply-To: <question@x.test>") || !strings.Contains(reply, "> Well?") ||
		!strings.Contains(reply, "with HTTP id ") || !strings.Contains(reply, "\r\n\tfor <ann@a.test>; ") {
		t.Errorf("reply as ann got it: %q", reply)
	}

	// Refusals: an unknown local address, sending disabled, the rate
	// limit (6 recipients an hour: 3 sent so far, 1 reply).
	for _, tc := range []struct {
		to, want string
	}{
		{"nobody@a.test", "There is no mailbox nobody@a.test."},
		{"a@remote.test, b@remote.test, c@remote.test", "You have sent as much mail as this server allows for now"},
	} {
		c.get("/webmail/compose", http.StatusOK)
		rec := c.postMultipart("/webmail/compose", url.Values{"action": {"send"}, "from": {"carl@a.test"}, "to": {tc.to}, "subject": {"x"}}, nil, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("send to %s: want %q in %s", tc.to, tc.want, wmSnippet(rec.Body.String()))
		}
	}
	no := false
	_, err = f.ten.UpdateMailbox(ctx, f.sys, address.Address{Local: "carl", Domain: "a.test"}, tenants.MailboxUpdate{MaySend: &no})
	wmMust(t, err)
	c.get("/webmail/compose", http.StatusOK)
	rec = c.postMultipart("/webmail/compose", url.Values{"action": {"send"}, "from": {"carl@a.test"}, "to": {"ann@a.test"}, "subject": {"x"}}, nil, http.StatusUnprocessableEntity)
	if !strings.Contains(rec.Body.String(), "This mailbox may not send mail") {
		t.Errorf("send without permission: %s", wmSnippet(rec.Body.String()))
	}

	// bob sends from his alias.
	bc := f.client()
	bc.login("bob@b.test")
	d, _ = bc.get("/webmail/compose", http.StatusOK)
	if n := d.Find(`#from option[value="bobby@b.test"]`).Length(); n != 1 {
		t.Fatalf("bob's From choices: %s", wmText(d, "#from"))
	}
	bc.postMultipart("/webmail/compose", url.Values{"action": {"send"}, "from": {"bobby@b.test"}, "to": {"ann@a.test"}, "subject": {"from the alias"}}, nil, http.StatusSeeOther)
	found := false
	for _, m := range f.messages("ann@a.test", "INBOX") {
		if b := f.body(m); strings.Contains(b, "from the alias") && strings.Contains(b, "From: \"Bob B\" <bobby@b.test>") {
			found = true
		}
	}
	if !found {
		t.Error("the message from bob's alias did not arrive as from the alias")
	}
}
