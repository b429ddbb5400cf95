package panel_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// testClock is a clock tests move on.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestImportKeepsFileServerSide: the preview page holds no file and no
// password, only a token; the file waits on the server, sealed, for the
// session that uploaded it, 30 minutes at most, and is gone once imported
// or signed out.
func TestImportKeepsFileServerSide(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		clock := &testClock{now: time.Now()}
		f := paneltest.NewFx(t, db, func(d *panel.Deps) { d.Now = clock.Now })
		ctx := context.Background()
		const pw1, pw2 = "Qz7!vr0001Kp#w", "Qz7!vr0003Kp#w"
		csv := "username,password,description\nnew1," + pw1 + ",New One\nnew2," + pw2 + ",New Two\n"
		rows := func() int64 {
			t.Helper()
			var n int64
			paneltest.Must(t, db.Read(ctx).Table("import_uploads").Count(&n).Error)
			return n
		}
		imported := func(local string) bool {
			_, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr(local+"@a.test"))
			return err == nil
		}
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		c.Get("/d/a.test/import", http.StatusOK)
		preview := func() string {
			t.Helper()
			rec := c.PostUpload("/d/a.test/import", url.Values{"template": {"carl"}}, csv, http.StatusOK)
			body := rec.Body.String()
			if strings.Contains(body, pw1) || strings.Contains(body, pw2) || strings.Contains(body, "<textarea") {
				t.Fatalf("the preview page holds the file's passwords:\n%s", paneltest.Snippet(body))
			}
			token, _ := paneltest.Doc(t, rec).Find(`[data-testid=import-confirm-form] input[name=upload]`).Attr("value")
			if len(token) < 40 {
				t.Fatalf("confirmation form token %q", token)
			}
			return token
		}
		token := preview()
		if rows() != 1 {
			t.Fatalf("%d kept files, want 1", rows())
		}
		var data []byte
		paneltest.Must(t, db.Read(ctx).Raw("SELECT data FROM import_uploads").Row().Scan(&data))
		if strings.Contains(string(data), pw1) || strings.Contains(string(data), "new1") {
			t.Error("the kept file is stored in the clear")
		}

		// Another session, of the same postmaster or another domain's,
		// can't confirm it; nor can a made-up token.
		other := f.Client()
		other.Login("pm@a.test", paneltest.PW)
		other.Get("/d/a.test/import", http.StatusOK)
		other.Post("/d/a.test/import/confirm", url.Values{"upload": {token}}, http.StatusUnprocessableEntity)
		b := f.Client()
		b.Login("pm@b.test", paneltest.PW)
		b.Get("/d/b.test/import", http.StatusOK)
		b.Post("/d/b.test/import/confirm", url.Values{"upload": {token}}, http.StatusUnprocessableEntity)
		rec := c.Post("/d/a.test/import/confirm", url.Values{"upload": {wrongToken(token)}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "upload the file again") {
			t.Errorf("made-up token: %s", paneltest.Snippet(rec.Body.String()))
		}
		// Nor may the old form post the file itself.
		c.Post("/d/a.test/import/confirm", url.Values{"csv": {csv}}, http.StatusUnprocessableEntity)
		if imported("new1") || imported("new2") {
			t.Fatal("a refused confirmation imported")
		}

		// After 30 minutes it is gone.
		clock.Advance(31 * time.Minute)
		c.Post("/d/a.test/import/confirm", url.Values{"upload": {token}}, http.StatusUnprocessableEntity)
		if imported("new1") {
			t.Fatal("an expired preview was imported")
		}

		// In time it imports, once, with the template of the preview,
		// and the file is removed.
		token = preview()
		d := c.Follow(c.Post("/d/a.test/import/confirm", url.Values{"upload": {token}}, http.StatusSeeOther))
		if got := paneltest.Text(d, `[data-testid=flash]`); got != "2 mailboxes imported into a.test." {
			t.Errorf("flash %q", got)
		}
		if !imported("new1") || !imported("new2") {
			t.Fatal("not imported")
		}
		if _, err := f.S.ResolveLogin(ctx, tenants.PanelLogin, "new2@a.test", pw2, ""); err != nil {
			t.Errorf("imported password: %v", err)
		}
		if rows() != 0 {
			t.Errorf("%d kept files after the import (the expired one swept, the imported one removed)", rows())
		}
		c.Post("/d/a.test/import/confirm", url.Values{"upload": {token}}, http.StatusUnprocessableEntity)

		// Signing out drops the session's files.
		c.Get("/d/a.test/import", http.StatusOK)
		c.PostUpload("/d/a.test/import", nil, "username,password\nnew3,"+pw1+"\n", http.StatusOK)
		if rows() != 1 {
			t.Fatalf("%d kept files, want 1", rows())
		}
		c.Post("/logout", nil, http.StatusSeeOther)
		if rows() != 0 {
			t.Errorf("%d kept files after signing out", rows())
		}
	})
}
