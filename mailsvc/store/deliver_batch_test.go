package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestDeliverMany: a delivery to many folders at once (the batch path of a
// list post) keeps the rules of one by one: UIDs go on from what a folder
// holds, missing folders are made with their id as UIDVALIDITY, a full
// mailbox's copy is refused alone, and usage counts every copy.
func TestDeliverMany(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, ann := env(t, db)
		deliver := func(rs []store.Rcpt) *store.DeliveryResult {
			t.Helper()
			p, err := s.Blobs().Create(ctx)
			tcheck(t, err, "blob")
			io.WriteString(p, "Subject: many\r\n\r\nbody\r\n")
			res, err := s.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: rs})
			tcheck(t, err, "deliver")
			return res
		}
		deliver([]store.Rcpt{{MailboxID: john}, {MailboxID: john}})
		var rs []store.Rcpt
		rs = append(rs, store.Rcpt{MailboxID: john, Prefix: "X-To: inbox\r\n"})
		for i := 0; i < 10; i++ {
			rs = append(rs, store.Rcpt{MailboxID: john, Folder: fmt.Sprintf("F%d", i)})
		}
		rs = append(rs, store.Rcpt{MailboxID: ann, Quota: 10}) // too small for any copy
		usedBefore, _, err := s.Usage(ctx, john)
		tcheck(t, err, "usage")
		res := deliver(rs)
		if res.UIDs[0] != 3 {
			t.Errorf("INBOX got UID %d, want 3 after two", res.UIDs[0])
		}
		for i := 1; i <= 10; i++ {
			if res.Errs[i] != nil || res.UIDs[i] != 1 {
				t.Errorf("rcpt %d: uid %d, err %v; want uid 1", i, res.UIDs[i], res.Errs[i])
			}
			f := mustFolder(t, s, john, fmt.Sprintf("F%d", i-1))
			if f.UIDValidity != uint32(f.ID) || f.UIDNext != 2 {
				t.Errorf("folder %s: uidvalidity %d (id %d), uidnext %d", f.Name, f.UIDValidity, f.ID, f.UIDNext)
			}
		}
		if !errors.Is(res.Errs[11], store.ErrOverQuota) {
			t.Errorf("the full mailbox's copy: %v, want ErrOverQuota", res.Errs[11])
		}
		if used, n, _ := s.Usage(ctx, ann); used != 0 || n != 0 {
			t.Errorf("ann's usage %d bytes, %d messages; want none", used, n)
		}
		used, _, err := s.Usage(ctx, john)
		tcheck(t, err, "usage")
		body := int64(len("Subject: many\r\n\r\nbody\r\n"))
		if want := usedBefore + 11*body + int64(len("X-To: inbox\r\n")); used != want {
			t.Errorf("john's usage %d, want %d", used, want)
		}
		inbox := mustFolder(t, s, john, "INBOX")
		uids, err := s.UIDs(ctx, inbox.ID)
		tcheck(t, err, "uids")
		if len(uids) != 3 {
			t.Errorf("INBOX holds %d, want 3", len(uids))
		}
	})
}
