package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// hugeHeaderMessage has a To header of n addresses (about 27 bytes each),
// a group in Cc cut by the bounds, and an attached message with the same
// To, each of its 2,000 parts described at length.
func hugeHeaderMessage(n int) string {
	var to strings.Builder
	for i := range n {
		if i > 0 {
			to.WriteString(",\r\n ")
		}
		fmt.Fprintf(&to, "user%07d@victim.test", i)
	}
	var b strings.Builder
	b.WriteString("From: Sender <sender@remote.test>\r\nTo: " + to.String() + "\r\nCc: Team: " + to.String() + ";\r\n" +
		"Subject: " + strings.Repeat("long subject ", 10000) + "\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		"--outer\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@remote.test\r\nTo: " + to.String() + "\r\n" +
		"Content-Type: multipart/mixed; boundary=inner\r\n\r\n")
	desc := strings.Repeat("described at length ", 200)
	for i := range 2000 {
		fmt.Fprintf(&b, "--inner\r\nContent-Type: text/plain; charset=utf-8; name=\"%s\"\r\nContent-Description: %s\r\n\r\npart %d\r\n", desc, desc, i)
	}
	b.WriteString("--inner--\r\n--outer--\r\n")
	return b.String()
}

// TestStoredFieldBounds: a message with a multi-MB To header (issue 11: 46
// MB became a 121 MB envelope row) and long part fields is stored in a
// row of bounded size; IMAP's ENVELOPE keeps the first addresses and the
// sender whole.
func TestStoredFieldBounds(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		msg := hugeHeaderMessage(150000) // a 4 MB To, three times, and 8 MB of part fields
		res := deliver(t, s, msg, store.Rcpt{MailboxID: john})
		tcheck(t, res.Errs[0], "deliver")
		var row struct {
			Header, Envelope, Structure, Subject, ToAddr, CcAddr, FromAddr, MessageID int
		}
		err := db.Read(ctx).Raw(`SELECT LENGTH(header) AS header, LENGTH(envelope) AS envelope, LENGTH(structure) AS structure,
			LENGTH(subject) AS subject, LENGTH(to_addr) AS to_addr, LENGTH(cc_addr) AS cc_addr, LENGTH(from_addr) AS from_addr,
			LENGTH(message_id) AS message_id FROM mail_blobs`).Scan(&row).Error
		tcheck(t, err, "measure the row")
		total := row.Header + row.Envelope + row.Structure + row.Subject + row.ToAddr + row.CcAddr + row.FromAddr + row.MessageID
		t.Logf("message of %d bytes: row %+v, %d in all", len(msg), row, total)
		if row.Envelope > 64<<10 || row.Structure > 640<<10 || row.Header > 64<<10 || total > 1<<20 {
			t.Errorf("row %+v (%d bytes in all) for a message of %d bytes: envelope over 64 KiB, structure over 640 KiB, or over 1 MiB", row, total, len(msg))
		}

		var stored store.BlobRow
		tcheck(t, db.Read(ctx).Take(&stored).Error, "read the row")
		env, err := store.ParseEnvelope(stored.Envelope)
		tcheck(t, err, "envelope")
		if len(env.From) != 1 || env.From[0].Addr() != "sender@remote.test" || env.From[0].Name != "Sender" {
			t.Errorf("From %+v", env.From)
		}
		if len(env.To) == 0 || len(env.To) > 100 || env.To[0].Addr() != "user0000000@victim.test" || env.To[len(env.To)-1].Host != "victim.test" {
			t.Errorf("To: %d addresses, first %+v", len(env.To), env.To[:min(1, len(env.To))])
		}
		if n := len(env.Cc); n == 0 || env.Cc[0].Mailbox != "Team" || !env.Cc[0].IsGroupStart() || !env.Cc[n-1].IsGroupEnd() {
			t.Errorf("Cc: the group cut without its end: %+v", env.Cc)
		}
		p, err := store.ParseStructure(stored.Structure)
		tcheck(t, err, "structure")
		inner := p.Children[1]
		if inner.Envelope == nil || len(inner.Envelope.To) > 100 || len(inner.Children) != 1 || len(inner.Children[0].Children) != 2000 {
			t.Errorf("the attached message's structure: %d parts", len(inner.Children[0].Children))
		}
		if last := inner.Children[0].Children[1999]; last.Size == 0 || last.Params["charset"] != "utf-8" {
			t.Errorf("the last part lost its size or charset: %+v", last)
		}
	})
}
