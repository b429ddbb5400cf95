package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// fillFolders gives a mailbox folders f0000, f0001, ... until it has n
// (its special-use folders included), written as rows in one go.
func fillFolders(t *testing.T, db *database.DB, s *store.Store, mailbox int64, n int) {
	t.Helper()
	ctx := context.Background()
	tcheck(t, s.EnsureFolders(ctx, mailbox), "ensure folders")
	have, err := s.Folders(ctx, mailbox)
	tcheck(t, err, "folders")
	var rows []store.Folder
	for i := 0; len(have)+len(rows) < n; i++ {
		rows = append(rows, store.Folder{MailboxID: mailbox, Name: fmt.Sprintf("f%04d", i), Subscribed: true,
			UIDValidity: uint32(100000 + i), UIDNext: 1, HighestModSeq: 1, CreatedAt: time.Now().UTC()})
	}
	tcheck(t, db.Write(ctx, func(tx *gorm.DB) error { return tx.CreateInBatches(rows, 200).Error }), "insert folders")
}

// TestFolderLimit: a mailbox has at most store.MaxFolders folders, however
// they would be made: a new folder, the parents it needs, a rename's new
// parents, or the folder a rename of INBOX makes.
func TestFolderLimit(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		s, john, ann := env(t, db)
		ctx := context.Background()
		fillFolders(t, db, s, john, store.MaxFolders-1)

		tcheck(t, func() error { _, err := s.CreateFolder(ctx, john, "last", ""); return err }(), "the last folder")
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, store.ErrTooManyFolders) {
				t.Errorf("%s: %v, want ErrTooManyFolders", what, err)
			}
		}
		_, err := s.CreateFolder(ctx, john, "one more", "")
		refused("create", err)
		_, err = s.CreateFolder(ctx, john, "f0001/child", "")
		refused("create under an existing folder", err)
		refused("rename under a new parent", s.RenameFolder(ctx, john, "f0002", "new/f0002"))
		refused("rename INBOX", s.RenameFolder(ctx, john, "INBOX", "Old mail"))
		if _, err := s.CreateFolder(ctx, john, "last", ""); !errors.Is(err, store.ErrFolderExists) {
			t.Errorf("create an existing folder: %v, want ErrFolderExists", err)
		}
		tcheck(t, s.RenameFolder(ctx, john, "f0003", "f0003 renamed"), "a rename that adds nothing")
		if fs, _ := s.Folders(ctx, john); len(fs) != store.MaxFolders {
			t.Errorf("%d folders, want %d", len(fs), store.MaxFolders)
		}

		// Room for one: a folder whose parent is missing needs two.
		tcheck(t, s.DeleteFolder(ctx, john, "last"), "delete")
		_, err = s.CreateFolder(ctx, john, "p/q", "")
		refused("create with a missing parent", err)
		_, err = s.CreateFolder(ctx, john, "f0004/q", "")
		tcheck(t, err, "create under an existing folder with room for one")

		// Another mailbox has its own count.
		_, err = s.CreateFolder(ctx, ann, "mine", "")
		tcheck(t, err, "another mailbox")
	})
}
