package pop3d_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestQuitScattered: QUIT removes scattered messages, more ranges than
// one store query names, and marks the retrieved ones \Seen: exactly
// those.
func TestQuitScattered(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		const n = 250
		p, err := e.st.Blobs().Create(ctx)
		tcheck(t, err, "blob")
		p.Write([]byte(msg2))
		rcpts := make([]store.Rcpt, n)
		for i := range rcpts {
			rcpts[i] = store.Rcpt{MailboxID: e.john, Prefix: fmt.Sprintf("X-Seq: %d\r\n", i+1)}
		}
		_, err = e.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: rcpts})
		tcheck(t, err, "deliver")

		c := e.dial(true)
		c.login()
		deleted := 0
		for i := 1; i <= n; i += 2 {
			c.cmd(fmt.Sprintf("DELE %d", i), "+OK")
			deleted++
		}
		for i := 2; i <= n; i += 4 {
			c.cmd(fmt.Sprintf("RETR %d", i), "+OK")
			c.multi()
		}
		c.cmd("QUIT", fmt.Sprintf("+OK Bye: %d messages deleted", deleted))

		inbox, err := e.st.Folder(ctx, e.john, "INBOX")
		tcheck(t, err, "inbox")
		ms, err := e.st.Messages(ctx, inbox.ID, nil)
		tcheck(t, err, "messages")
		if len(ms) != n-deleted {
			t.Fatalf("%d messages left, want %d", len(ms), n-deleted)
		}
		for _, m := range ms {
			if m.UID%2 == 1 {
				t.Fatalf("UID %d was deleted, yet is there", m.UID)
			}
			if want := m.UID%4 == 2; m.Seen != want || m.Deleted {
				t.Fatalf("UID %d: seen %v deleted %v", m.UID, m.Seen, m.Deleted)
			}
		}
		if _, count, _ := e.st.Usage(ctx, e.john); count != int64(n-deleted) {
			t.Fatalf("usage counts %d messages", count)
		}
	})
}
