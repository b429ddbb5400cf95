package panel_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAdminUnlock: the admin page's Unlock form (a CSRF-checked POST)
// lifts a login lock through tenants.Unlock; postmasters can't reach it.
func TestAdminUnlock(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		locked := func() bool {
			t.Helper()
			_, err := f.S.ResolveLogin(ctx, tenants.MailboxLogin, "ann@a.test", paneltest.PW, "192.0.2.5:1")
			var le *tenants.LoginError
			if err != nil && !(errors.As(err, &le) && le.Reason == tenants.Locked) {
				t.Fatalf("login: %v", err)
			}
			return err != nil
		}
		for range tenants.DefaultThrottle().AccountLockAfter {
			f.S.ResolveLogin(ctx, tenants.MailboxLogin, "ann@a.test", "wrong", "192.0.2.5:1")
		}
		if !locked() {
			t.Fatal("not locked")
		}
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		pm.Post("/admin/unlock", url.Values{"login": {"ann@a.test"}}, http.StatusForbidden)

		c := f.Client()
		c.Login("root", paneltest.AdminPW)
		d := c.Get("/admin", http.StatusOK)
		if d.Find(`[data-testid=unlock-form] input[name=csrf]`).Length() != 1 {
			t.Error("the unlock form has no CSRF token")
		}
		c.Post("/admin/unlock", url.Values{"login": {"ann@a.test"}, "csrf": {"forged"}}, http.StatusForbidden)
		rec := c.Post("/admin/unlock", url.Values{"login": {"ann@a.test"}, "ip": {"nowhere"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "Not an IP address") {
			t.Error("a bad address is not named")
		}
		if !locked() {
			t.Fatal("unlocked by refused requests")
		}
		c.Post("/admin/unlock", url.Values{"login": {"ann@a.test"}, "ip": {"192.0.2.5"}}, http.StatusSeeOther)
		if locked() {
			t.Fatal("still locked after the admin's unlock")
		}
	})
}
