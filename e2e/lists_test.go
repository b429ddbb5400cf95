package e2e_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
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

// TestListModerationLinks: a moderation link works without a panel
// session, outside the CSRF group, through the real delivery: its GET
// changes nothing, its POST sends the held post to the members once, and
// the used link then does nothing.
func TestListModerationLinks(t *testing.T) {
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
		l, err := f.S.CreateList(ctx, f.Sys, tenants.ListInput{Address: paneltest.Addr("team@a.test"), Owners: []address.Address{paneltest.Addr("pm@a.test")},
			NonMembers: tenants.NonMembersHold})
		paneltest.Must(t, err)
		paneltest.Must(t, f.S.AddListMembers(ctx, f.Sys, paneltest.Addr("team@a.test"), []address.Address{paneltest.Addr("ann@a.test")}))

		from, err := address.ParseReversePath("stranger@ext.test")
		paneltest.Must(t, err)
		to, err := address.ParseForwardPath("team@a.test")
		paneltest.Must(t, err)
		r, err := d.CheckRecipient(ctx, delivery.RcptCheck{From: from, To: to})
		paneltest.Must(t, err)
		b, err := st.Blobs().Create(ctx)
		paneltest.Must(t, err)
		io.WriteString(b, "From: <stranger@ext.test>\r\nTo: <team@a.test>\r\nSubject: please\r\n\r\nHello list.\r\n")
		_, err = d.Deliver(ctx, &delivery.Message{From: from, Blob: b, Rcpts: []delivery.Recipient{r}})
		paneltest.Must(t, err)
		var heldID int64
		paneltest.Must(t, db.Read(ctx).Table(delivery.HeldTable).Select("id").Take(&heldID).Error)
		ann, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("ann@a.test"))
		paneltest.Must(t, err)

		tok, err := f.S.ModerationToken(ctx, l, heldID, tenants.ModerateApprove)
		paneltest.Must(t, err)
		c := f.Client() // a moderator's browser with no panel session
		if rec := c.Do(http.MethodGet, "/lists/m/"+tok, nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<form") {
			t.Fatalf("GET of the link: %d", rec.Code)
		}
		if n := len(mailtest.Inbox(t, ctx, st, ann.ID)); n != 0 {
			t.Fatalf("a GET distributed the post: ann holds %d", n)
		}
		bad := []byte(tok)
		bad[len(bad)/3] ^= 1
		if rec := c.Do(http.MethodPost, "/lists/m/"+string(bad), url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("changed link: %d", rec.Code)
		}
		if rec := c.Do(http.MethodPost, "/lists/m/"+tok, url.Values{}); rec.Code != http.StatusOK {
			t.Fatalf("approve: %d\n%s", rec.Code, paneltest.Snippet(rec.Body.String()))
		}
		if got := mailtest.Inbox(t, ctx, st, ann.ID); len(got) != 1 || !strings.Contains(got[0], "Hello list.") {
			t.Fatalf("ann after the approval: %v", got)
		}
		if rec := c.Do(http.MethodPost, "/lists/m/"+tok, url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("used link: %d", rec.Code)
		}
		if n := len(mailtest.Inbox(t, ctx, st, ann.ID)); n != 1 {
			t.Errorf("a used link sent the post again: ann holds %d", n)
		}
	})
}
