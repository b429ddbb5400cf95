package smtpd_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestMXRecipients checks RCPT answers (RFC 5321 4.2.2, 4.5.1, RFC 3463)
// and that no address form relays.
func TestMXRecipients(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.mx)
		text := c.expect("EHLO client.test", 250, "")
		for _, ext := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "STARTTLS", "SIZE 52428800"} {
			if !strings.Contains(text, ext) {
				t.Errorf("EHLO lacks %s: %s", ext, text)
			}
		}
		if strings.Contains(text, "AUTH") {
			t.Errorf("MX offers AUTH: %s", text)
		}
		c.expect("MAIL FROM:<someone@remote.test>", 250, "2.0.0")
		for _, tc := range []struct {
			rcpt     string
			code     int
			enhanced string
		}{
			{"<john@example.test>", 250, ""},
			{"<JOHN@Example.TEST>", 250, ""},
			{"<sales@example.test>", 250, ""},
			{"<john+tag@example.test>", 250, ""},
			{"<john@alias.test>", 250, ""},
			{"<anything@c.test>", 250, ""},                           // catchrest
			{"<postmaster>", 250, ""},                                // RFC 5321 4.5.1
			{"<PostMaster>", 250, ""},                                // any case
			{"<postmaster@example.test>", 250, ""},                   // the system postmaster
			{"<@hop1,@hop2:john@example.test>", 250, ""},             // source route: final domain only
			{"<nobody@example.test>", 550, "5.1.1"},                  // unknown
			{"<off@example.test>", 550, "5.2.1"},                     // disabled
			{"<victim@elsewhere.test>", 550, "5.7.1"},                // relaying
			{`<"victim@elsewhere.test"@example.test>`, 550, "5.1.1"}, // quoted @: our domain, unknown
			{"<victim%elsewhere.test@example.test>", 550, "5.1.1"},   // % hack: a local part
			{"<elsewhere.test!victim@example.test>", 550, "5.1.1"},   // bang path: a local part
			{"<@example.test:victim@elsewhere.test>", 550, "5.7.1"},  // source route to a foreign domain
			{"<victim@[192.0.2.1]>", 550, "5.7.1"},                   // address literal
			{"<" + strings.Repeat("a", 65) + "@example.test>", 553, "5.1.3"},
			{"<" + strings.Repeat("a", 60) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + "." + strings.Repeat("e", 20) + ".test>", 501, "5.5.2"},
			{"<jöhn@example.test>", 553, "5.6.7"}, // no SMTPUTF8 given
			{"<full@example.test>", 452, "4.2.2"},
			{"<a b@example.test>", 501, ""},
		} {
			got, text := c.cmd("RCPT TO:" + tc.rcpt)
			if got != tc.code || (tc.enhanced != "" && !strings.Contains(text, tc.enhanced)) {
				t.Errorf("RCPT TO:%s = %q, want %d %s", tc.rcpt, text, tc.code, tc.enhanced)
			}
		}
		c.expect("RSET", 250, "")
		c.expect("MAIL FROM:<someone@remote.test> SMTPUTF8", 250, "")
		c.expect("RCPT TO:<jöhn@example.test>", 550, "5.1.1") // parsed, unknown
		// A declared size past the limit is refused before any data.
		c.expect("RSET", 250, "")
		c.expect("MAIL FROM:<someone@remote.test> SIZE=99999999", 552, "")
		c.expect("MAIL FROM:<someone@remote.test> SIZE=2000", 250, "")
		c.expect("RCPT TO:<full@example.test>", 452, "4.2.2")
		c.expect("QUIT", 221, "")
	}, nil)
}

// TestMXDelivery checks what is stored: one blob with a Received header,
// Return-Path and Delivered-To per recipient, one copy per mailbox.
func TestMXDelivery(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		// john twice (own address and alias) and ann: john stores once.
		err := send(e.mx, "someone@remote.test", []string{"john@example.test", "sales@example.test", "ann@example.test"}, msg("someone@remote.test", "john@example.test", "one", ""))
		tcheck(t, err, "send")
		j := e.stored("john@example.test")
		if len(j) != 1 {
			t.Fatalf("john holds %d messages, want 1", len(j))
		}
		if !strings.HasPrefix(j[0], "Return-Path: <someone@remote.test>\r\nDelivered-To: john@example.test\r\nReceived: from client.test ([127.0.0.1])") {
			t.Errorf("john's message starts:\n%s", j[0][:min(300, len(j[0]))])
		}
		a := e.stored("ann@example.test")
		if len(a) != 1 || !strings.Contains(a[0], "Delivered-To: ann@example.test\r\n") {
			t.Fatalf("ann: %q", a)
		}
		// One blob for both.
		var keys []string
		tcheck(t, e.db.Read(e.ctx).Table("mail_messages").Where("mailbox_id IN ?", []int64{e.ids["john@example.test"], e.ids["ann@example.test"]}).Distinct().Pluck("blob_key", &keys).Error, "keys")
		if len(keys) != 1 {
			t.Errorf("%d blobs for one delivery, want 1", len(keys))
		}

		// A forward with store mail off: only the target keeps it.
		tcheck(t, send(e.mx, "someone@remote.test", []string{"fwd@example.test"}, msg("someone@remote.test", "fwd@example.test", "via-forward", "")), "send fwd")
		if n := len(e.stored("john@example.test")); n != 2 {
			t.Errorf("john holds %d, want 2 after the forward", n)
		}
		if n := len(e.stored("fwd@example.test")); n != 0 {
			t.Errorf("fwd kept %d messages with store mail off", n)
		}
		// fwd and john in one transaction: john once.
		tcheck(t, send(e.mx, "someone@remote.test", []string{"fwd@example.test", "john@example.test"}, msg("someone@remote.test", "fwd@example.test", "both", "")), "send both")
		if n := len(e.stored("john@example.test")); n != 3 {
			t.Errorf("john holds %d, want 3", n)
		}
		// Catchrest.
		tcheck(t, send(e.mx, "someone@remote.test", []string{"random@c.test"}, msg("someone@remote.test", "random@c.test", "catch", "")), "send catchrest")
		if n := len(e.stored("catchrest@c.test")); n != 1 {
			t.Errorf("catchrest holds %d", n)
		}
		// Bare postmaster reaches the system postmaster (john).
		tcheck(t, send(e.mx, "someone@remote.test", []string{"postmaster"}, msg("someone@remote.test", "postmaster", "pm", "")), "send postmaster")
		if n := len(e.stored("john@example.test")); n != 4 {
			t.Errorf("john holds %d, want 4 after <postmaster>", n)
		}
		// Dot-stuffing is undone, nothing else changes.
		body := "Subject: dots\r\n\r\n..leading dot\r\n.\r\n"
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<someone@remote.test>", 250, "")
		c.expect("RCPT TO:<ann@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send(body)
		if code, text := c.read(); code != 250 {
			t.Fatalf("dot message: %s", text)
		}
		a = e.stored("ann@example.test")
		if last := a[len(a)-1]; !strings.HasSuffix(last, "\r\n\r\n.leading dot\r\n") {
			t.Errorf("dot-stuffed message stored as %q", last)
		}
	}, nil)
}

// TestMXLimits: size, quota, recipients.
func TestMXLimits(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		big := msg("a@remote.test", "john@example.test", "big", "") + strings.Repeat("x", 3000) + "\r\n"
		err := send(e.mx, "a@remote.test", []string{"john@example.test"}, big)
		if code(err) != 552 {
			t.Errorf("message over the size limit: %v, want 552", err)
		}
		if n := len(e.stored("john@example.test")); n != 0 {
			t.Errorf("an over-size message was stored")
		}
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		for i := 0; i < 3; i++ {
			c.expect("RCPT TO:<john@example.test>", 250, "")
		}
		c.expect("RCPT TO:<john@example.test>", 452, "4.5.3")
		// A line past MaxLineLength (12288) closes the connection.
		c.send(strings.Repeat("N", 13000) + "\r\n")
		if code, _ := c.read(); code != 500 {
			t.Errorf("over-long line: got %d, want 500", code)
		}
		// The quota: 1 KiB mailbox with room for a 500 byte message, not 900.
		q := int64(1024)
		_, err = e.ten.UpdateMailbox(e.ctx, sys, addr("ann@example.test"), tenantsUpdateQuota(q))
		tcheck(t, err, "quota")
		c = dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<a@remote.test> SIZE=1500", 250, "")
		c.expect("RCPT TO:<ann@example.test>", 552, "5.2.2")
		c.expect("RSET", 250, "")
		c.expect("MAIL FROM:<a@remote.test> SIZE=500", 250, "")
		c.expect("RCPT TO:<ann@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send(msg("a@remote.test", "ann@example.test", "fits", "") + strings.Repeat("y", 900) + "\r\n.\r\n")
		if code, text := c.read(); code != 250 {
			t.Fatalf("message taking ann past her quota (grace): %s", text)
		}
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<ann@example.test>", 452, "4.2.2")
	}, func(c *smtpd.Config) { c.MaxMessageBytes = 2048; c.MaxRecipients = 3 })
}

// TestLoops: Received count and Delivered-To (554 5.4.6, no backscatter).
func TestLoops(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		hops := func(n int) string {
			return strings.Repeat("Received: from x by y; Sat, 21 Nov 2026 10:00:00 +0000\r\n", n)
		}
		if err := send(e.mx, "a@remote.test", []string{"john@example.test"}, hops(50)+msg("a@remote.test", "john@example.test", "50 hops", "")); err != nil {
			t.Errorf("50 Received headers refused: %v", err)
		}
		err := send(e.mx, "a@remote.test", []string{"john@example.test"}, hops(51)+msg("a@remote.test", "john@example.test", "51 hops", ""))
		if enhanced(err) != "5.4.6" || code(err) != 554 {
			t.Errorf("51 Received headers: %v, want 554 5.4.6", err)
		}
		err = send(e.mx, "a@remote.test", []string{"sales@example.test"}, "Delivered-To: john@example.test\r\n"+msg("a@remote.test", "john@example.test", "looped", ""))
		if code(err) != 554 {
			t.Errorf("Delivered-To holding the recipient: %v, want 554", err)
		}
		// Through a forward: fwd forwards to john, whose address is in the chain.
		err = send(e.mx, "a@remote.test", []string{"fwd@example.test"}, "Delivered-To: john@example.test\r\n"+msg("a@remote.test", "fwd@example.test", "looped", ""))
		if code(err) != 554 {
			t.Errorf("forward into a Delivered-To chain: %v, want 554", err)
		}
		if n := len(e.stored("john@example.test")); n != 1 {
			t.Errorf("john holds %d, want only the 50-hop message", n)
		}
	}, nil)
}

func enhanced(err error) string {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
}

func tenantsUpdateQuota(q int64) tenants.MailboxUpdate { return tenants.MailboxUpdate{QuotaBytes: &q} }

// TestCommandLimit: past the commands allowed per connection, 421 and
// the connection closes.
func TestCommandLimit(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		for i := 0; i < 4; i++ {
			c.expect("NOOP", 250, "")
		}
		c.expect("NOOP", 421, "4.7.0")
		if code, _ := c.read(); code != 0 {
			t.Errorf("connection open after the command limit")
		}
	}, func(c *smtpd.Config) { c.MaxCommands = 5 })
}

// TestLongDataLines: text lines far past RFC 5321's 1000 octets (HTML
// mail) are accepted and stored whole; a line past MaxDataLineLength gets
// a 5xx after the end of data, never a 4xx to retry, and the session goes
// on; command lines keep their 4096 limit.
func TestLongDataLines(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		for _, n := range []int{5000, 64 << 10, 100<<10 - 2} {
			line := strings.Repeat("h", n)
			body := msg("a@remote.test", "john@example.test", "long "+strconv.Itoa(n), "") + line + "\r\n"
			tcheck(t, send(e.mx, "a@remote.test", []string{"john@example.test"}, body), "a "+strconv.Itoa(n)+" octet line")
		}
		got := e.stored("john@example.test")
		if len(got) != 3 || !strings.Contains(got[2], strings.Repeat("h", 100<<10-2)+"\r\n") {
			t.Fatalf("long lines not stored whole (%d messages)", len(got))
		}

		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<john@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send(msg("a@remote.test", "john@example.test", "too long", "") + strings.Repeat("h", 100<<10) + "\r\nQUIT\r\n.\r\n")
		if code, text := c.read(); code != 554 || !strings.Contains(text, "5.6.0") {
			t.Fatalf("a line past the limit: %q, want 554 5.6.0", text)
		}
		c.expect("NOOP", 250, "")
		if n := len(e.stored("john@example.test")); n != 3 {
			t.Errorf("john holds %d, the refused message was stored", n)
		}
		c.send("NOOP " + strings.Repeat("N", 5000) + "\r\n")
		if code, _ := c.read(); code != 500 {
			t.Errorf("over-long command line after DATA: got %d, want 500", code)
		}
	}, func(c *smtpd.Config) { c.MaxDataLineLength = 100 << 10 })
}

// lockedBuf is a log copy written by the server's goroutines.
type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDeliveryLogsConn: what delivery logs for a message received over
// SMTP (here the responder's reply) carries the connection's id.
func TestDeliveryLogsConn(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		logs := &lockedBuf{}
		e := newEnvWith(t, db, envOptions{logs: logs})
		tcheck(t, send(e.mx, "a@remote.test", []string{"ann@example.test"}, msg("a@remote.test", "ann@example.test", "hi", "")), "send")
		var line string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, `msg="responder`) { // delivery's, not smtpd's
				line = l
			}
		}
		if line == "" || !strings.Contains(line, " conn=") || !strings.Contains(line, " remote=127.0.0.1") {
			t.Fatalf("delivery's log line without the connection: %q", line)
		}
	})
}
