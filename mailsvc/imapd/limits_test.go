package imapd_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// TestCreateFolderLimit: at store.MaxFolders folders, CREATE and a RENAME
// that would add folders get NO [LIMIT] (RFC 5530 3), and the mailbox
// stays as it was.
func TestCreateFolderLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		tcheck(t, e.st.EnsureFolders(ctx, e.john), "ensure folders")
		have, err := e.st.Folders(ctx, e.john)
		tcheck(t, err, "folders")
		var rows []store.Folder
		for i := 0; len(have)+len(rows) < store.MaxFolders; i++ {
			rows = append(rows, store.Folder{MailboxID: e.john, Name: fmt.Sprintf("f%04d", i), Subscribed: true,
				UIDValidity: uint32(100000 + i), UIDNext: 1, HighestModSeq: 1, CreatedAt: time.Now().UTC()})
		}
		tcheck(t, e.db.Write(ctx, func(tx *gorm.DB) error { return tx.CreateInBatches(rows, 200).Error }), "insert folders")

		r := e.raw(true)
		r.login("john@example.test")
		r.expect("c1", "CREATE Extra", fmt.Sprintf("NO [LIMIT] Too many mailboxes: at most %d", store.MaxFolders))
		r.expect("c2", "RENAME f0001 New/f0001", "NO [LIMIT]")
		r.expect("c3", "RENAME INBOX Old", "NO [LIMIT]")
		r.expect("c4", "CREATE f0002", "NO [ALREADYEXISTS]")
		r.expect("c5", "RENAME f0003 Renamed", "OK")

		c := e.client("john@example.test", nil)
		if err := c.Create("Extra/Child", nil).Wait(); !isCode(err, imap.ResponseCodeLimit) {
			t.Errorf("go-imap CREATE: %v, want NO [LIMIT]", err)
		}
		tcheck(t, c.Delete("f0004").Wait(), "delete")
		tcheck(t, c.Create("Extra", nil).Wait(), "create with room for one")
		if fs, _ := e.st.Folders(ctx, e.john); len(fs) != store.MaxFolders {
			t.Errorf("%d folders, want %d", len(fs), store.MaxFolders)
		}

		// Another mailbox has its own count.
		tcheck(t, e.client("ann@example.test", nil).Create("Extra", nil).Wait(), "ann's CREATE")
	})
}
