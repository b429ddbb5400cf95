package smtpd_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/mailsvc/imapd"
)

// truncatedMsg is a multipart cut off before its closing boundary, as
// truncated mail arrives.
const truncatedMsg = "From: <someone@remote.test>\r\nTo: <john@example.test>\r\nSubject: cut off\r\n" +
	"Message-ID: <cut@remote.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
	"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
	"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\nJVBERi0x\r\n"

// TestTruncatedMultipartDelivered: SMTP delivery of a multipart without
// its closing boundary gets 250, and the message reads back over IMAP:
// its structure as far as it goes, its body as it came.
func TestTruncatedMultipartDelivered(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		if err := send(e.mx, "someone@remote.test", []string{"john@example.test"}, truncatedMsg); err != nil {
			t.Fatalf("delivery refused: %v", err)
		}

		srv, err := imapd.New(imapd.Config{Store: e.st, Tenants: e.ten, AllowPlaintextAuth: true,
			Logger: slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		tcheck(t, err, "imap server")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		tcheck(t, err, "listen")
		go srv.Serve(ln)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		})
		c, err := imapclient.DialInsecure(ln.Addr().String(), nil)
		tcheck(t, err, "dial imap")
		defer c.Close()
		tcheck(t, c.Login("john@example.test", pw).Wait(), "login")
		_, err = c.Select("INBOX", nil).Wait()
		tcheck(t, err, "select")
		whole, first := &imap.FetchItemBodySection{Peek: true}, &imap.FetchItemBodySection{Peek: true, Part: []int{1}}
		msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{},
			BodySection: []*imap.FetchItemBodySection{whole, first}}).Collect()
		tcheck(t, err, "fetch")
		if len(msgs) != 1 {
			t.Fatalf("fetched %d messages", len(msgs))
		}
		m := msgs[0]
		if m.Envelope == nil || m.Envelope.Subject != "cut off" {
			t.Fatalf("envelope %+v", m.Envelope)
		}
		mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
		if !ok || len(mp.Children) != 2 || mp.Children[1].MediaType() != "application/pdf" {
			t.Fatalf("body structure %#v", m.BodyStructure)
		}
		if body := string(m.FindBodySection(whole)); !strings.HasSuffix(body, truncatedMsg) {
			t.Fatalf("BODY[] %q", body)
		}
		if part := string(m.FindBodySection(first)); part != "hello" {
			t.Fatalf("BODY[1] %q", part)
		}
	}, nil)
}
