package panel_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestMailboxListAt20000 lists a domain of 20,000 mailboxes: search, sort
// and paging are done by the database, one page of rows at a time.
func TestMailboxListAt20000(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		_, err := f.S.CreateDomain(ctx, f.Sys, address.Domain("big.test"), "")
		paneltest.Must(t, err)
		d, err := f.S.Domain(ctx, f.Sys, "big.test")
		paneltest.Must(t, err)
		now := time.Now().UTC()
		paneltest.Must(t, db.Read(ctx).Exec(`INSERT INTO mailboxes (domain_id, local_part, full_name, password_hash, created_at, updated_at)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
			SELECT ?, 'user' || (100000 + i), 'Name ' || i, 'x', ?, ? FROM n`, d.ID, now, now).Error)
		paneltest.Must(t, db.Read(ctx).Exec(`INSERT INTO addresses (domain_id, local_part, mailbox_id, is_alias, created_at)
			SELECT domain_id, local_part, id, FALSE, created_at FROM mailboxes WHERE domain_id = ?`, d.ID).Error)
		c := f.Client()
		c.Login("root", paneltest.AdminPW)
		doc := c.Get("/d/big.test", http.StatusOK)
		if got := doc.Find(`[data-testid=total]`).First().Text(); got != "20,000 mailboxes" {
			t.Errorf("total %q", got)
		}
		if n := doc.Find(`[data-testid=mailbox-row]`).Length(); n != 50 {
			t.Errorf("%d rows on a page", n)
		}
		doc = c.Get("/d/big.test?page=400", http.StatusOK)
		if got := doc.Find(`[data-testid=mailbox-address]`).Last().Text(); got != "user120000@big.test" {
			t.Errorf("last mailbox %q", got)
		}
		doc = c.Get("/d/big.test?q=name+1999&sort=name&desc=1", http.StatusOK)
		if got := doc.Find(`[data-testid=total]`).First().Text(); got != "11 mailboxes" {
			t.Errorf("search total %q", got)
		}
		if got := doc.Find(`[data-testid=mailbox-address]`).First().Text(); got != "user119999@big.test" {
			t.Errorf("first of search sorted by name descending %q", got)
		}
	})
}
