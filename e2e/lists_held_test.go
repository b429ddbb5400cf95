package e2e_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestListHeldPage: a list's page lists its held posts with approve and
// reject buttons that moderate through the real delivery, as the signed
// links do: approved, the post reaches the members once; rejected, it is
// gone; a second press does nothing; another domain's postmaster can
// neither see nor moderate them.
func TestListHeldPage(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		var d *delivery.Deliverer
		var st *store.Store
		f := paneltest.NewFx(t, db, func(deps *panel.Deps) {
			bs, err := blob.NewFiles(filepath.Join(t.TempDir(), "blobs"))
			paneltest.Must(t, err)
			st = store.New(db, bs, store.Options{BlobRefs: []string{queue.BlobTable, delivery.HeldTable}})
			d = delivery.New(delivery.Options{Tenants: deps.Tenants, Store: st, Queue: queue.NewOutbox(nil), Hostname: "mail.test",
				PublicURL: "https://mail.a.test"})
			deps.ListModeration = d
		})
		ctx := context.Background()
		_, err := f.S.CreateList(ctx, f.Sys, tenants.ListInput{Address: paneltest.Addr("team@a.test"), Owners: []address.Address{paneltest.Addr("pm@a.test")},
			NonMembers: tenants.NonMembersHold})
		paneltest.Must(t, err)
		paneltest.Must(t, f.S.AddListMembers(ctx, f.Sys, paneltest.Addr("team@a.test"), []address.Address{paneltest.Addr("ann@a.test")}))
		hold := func(subject string) {
			from, err := address.ParseReversePath("stranger@ext.test")
			paneltest.Must(t, err)
			to, err := address.ParseForwardPath("team@a.test")
			paneltest.Must(t, err)
			r, err := d.CheckRecipient(ctx, delivery.RcptCheck{From: from, To: to})
			paneltest.Must(t, err)
			b, err := st.Blobs().Create(ctx)
			paneltest.Must(t, err)
			io.WriteString(b, "From: <stranger@ext.test>\r\nTo: <team@a.test>\r\nSubject: "+subject+"\r\n\r\nHello "+subject+".\r\n")
			_, err = d.Deliver(ctx, &delivery.Message{From: from, Blob: b, Rcpts: []delivery.Recipient{r}})
			paneltest.Must(t, err)
		}
		hold("first")
		hold("second")
		ann, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("ann@a.test"))
		paneltest.Must(t, err)

		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		page := c.Get("/d/a.test/lists/team", http.StatusOK)
		rows := page.Find(`[data-testid="list-held"] tbody tr`)
		if rows.Length() != 2 || !strings.Contains(rows.First().Text(), "stranger@ext.test") || !strings.Contains(rows.First().Text(), "first") {
			t.Fatalf("held posts on the page: %d rows: %q", rows.Length(), rows.Text())
		}
		approve, _ := rows.First().Find(`form:has([data-testid="held-approve"])`).Attr("action")
		reject, _ := rows.Last().Find(`form:has([data-testid="held-reject"])`).Attr("action")
		if approve == "" || reject == "" {
			t.Fatalf("no approve or reject button: %q %q", approve, reject)
		}

		// Another domain's postmaster: not found, nothing moderated.
		b := f.Client()
		b.Login("pm@b.test", paneltest.PW)
		b.Get("/d/b.test/lists", http.StatusOK)
		b.Post(approve, nil, http.StatusNotFound)
		b.Post(strings.Replace(approve, "/d/a.test/", "/d/b.test/", 1), nil, http.StatusNotFound)
		if n := len(mailtest.Inbox(t, ctx, st, ann.ID)); n != 0 {
			t.Fatalf("another postmaster's press distributed a post: ann holds %d", n)
		}

		got := c.Follow(c.Post(approve, nil, http.StatusSeeOther))
		if !strings.Contains(got.Find(`[data-testid="flash"]`).Text(), "sent to the list") {
			t.Errorf("approve flash %q", got.Find(`[data-testid="flash"]`).Text())
		}
		if got := mailtest.Inbox(t, ctx, st, ann.ID); len(got) != 1 || !strings.Contains(got[0], "Hello first.") {
			t.Fatalf("ann after the approval: %v", got)
		}
		got = c.Follow(c.Post(approve, nil, http.StatusSeeOther))
		if !strings.Contains(got.Find(`[data-testid="flash"]`).Text(), "moderated already") {
			t.Errorf("second approve flash %q", got.Find(`[data-testid="flash"]`).Text())
		}
		c.Post(reject, nil, http.StatusSeeOther)
		if n := len(mailtest.Inbox(t, ctx, st, ann.ID)); n != 1 {
			t.Errorf("ann holds %d after a second approve and a reject, want 1", n)
		}
		if c.Get("/d/a.test/lists/team", http.StatusOK).Find(`[data-testid="list-held"]`).Length() != 0 {
			t.Error("the page still lists held posts")
		}
		c.Post("/d/a.test/lists/team/held/1/forward", nil, http.StatusNotFound)
	})
}
