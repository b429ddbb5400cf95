package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestWebmailFolderLimit: a mailbox with store.MaxFolders folders can't
// make another in webmail; the folder page says why.
func TestWebmailFolderLimit(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		ctx := context.Background()
		ann := f.boxes["ann@a.test"].ID
		f.folder("ann@a.test", "INBOX") // the special-use folders
		have, err := f.st.Folders(ctx, ann)
		wmMust(t, err)
		var rows []store.Folder
		for i := 0; len(have)+len(rows) < store.MaxFolders; i++ {
			rows = append(rows, store.Folder{MailboxID: ann, Name: fmt.Sprintf("f%04d", i), Subscribed: true,
				UIDValidity: uint32(100000 + i), UIDNext: 1, HighestModSeq: 1, CreatedAt: time.Now().UTC()})
		}
		wmMust(t, db.Write(ctx, func(tx *gorm.DB) error { return tx.CreateInBatches(rows, 200).Error }))

		c := f.client()
		c.login("ann@a.test")
		c.get("/webmail/folders", http.StatusOK)
		rec := c.post("/webmail/folders", url.Values{"name": {"One more"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "as many folders as a mailbox may have") {
			t.Errorf("create: %s", wmSnippet(rec.Body.String()))
		}
		f1 := f.folder("ann@a.test", "f0001")
		rec = c.post(fmt.Sprintf("/webmail/f/%d/rename", f1.ID), url.Values{"name": {"New/f0001"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "as many folders as a mailbox may have") {
			t.Errorf("rename: %s", wmSnippet(rec.Body.String()))
		}
		if fs, _ := f.st.Folders(ctx, ann); len(fs) != store.MaxFolders {
			t.Errorf("%d folders, want %d", len(fs), store.MaxFolders)
		}
	})
}
