package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// storeRows counts the rows of the message store's tables a mailbox
// could get from webmail.
func storeRows(t *testing.T, f *wmFx) int64 {
	t.Helper()
	var total int64
	for _, table := range []string{"mail_folders", "mail_messages", "mail_usage", "mail_expunged", "mail_blobs"} {
		var n int64
		wmMust(t, f.db.Read(context.Background()).Table(table).Count(&n).Error)
		total += n
	}
	return total
}

// TestWebmailGetWritesNothing: webmail's pages (GET) create no folders; a
// sign-in does, as an IMAP login does, and so does the first change
// (POST) of a session that began before its mailbox had them.
func TestWebmailGetWritesNothing(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		ctx := context.Background()
		ann := f.boxes["ann@a.test"].ID
		if n := storeRows(t, f); n != 0 {
			t.Fatalf("%d rows before anything", n)
		}
		c := f.client()
		c.login("ann@a.test")
		fs, err := f.st.Folders(ctx, ann)
		wmMust(t, err)
		if len(fs) != 6 {
			t.Fatalf("the sign-in made %d folders, want 6", len(fs))
		}

		// A session whose mailbox has no folders yet.
		wmMust(t, db.Write(ctx, func(tx *gorm.DB) error { return tx.Exec("DELETE FROM mail_folders WHERE mailbox_id = ?", ann).Error }))
		before := storeRows(t, f)
		d, _ := c.get("/webmail/folders", http.StatusOK)
		if n := d.Find(`[data-testid="folder-row"]`).Length(); n != 0 {
			t.Errorf("the folder page of a mailbox without folders lists %d", n)
		}
		if rec := c.do(http.MethodGet, "/webmail", nil, ""); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/webmail/folders" {
			t.Errorf("GET /webmail: %d to %q", rec.Code, rec.Header().Get("Location"))
		}
		c.get("/webmail/compose", http.StatusOK)
		if after := storeRows(t, f); after != before {
			t.Errorf("GETs made %d rows", after-before)
		}

		// The first change makes them.
		c.post("/webmail/folders", url.Values{"name": {"Projects"}}, http.StatusSeeOther)
		fs, err = f.st.Folders(ctx, ann)
		wmMust(t, err)
		if len(fs) != 7 {
			t.Errorf("after the first POST: %d folders, want 7", len(fs))
		}
	})
}
