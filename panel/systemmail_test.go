package panel_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSystemPostmasterForm runs the System mail page of a panel built
// without the system mailbox (cmd/postdesk tests it with one): the form
// names and clears the system postmaster, refuses what is no mailbox or
// alias, and is an administrator's alone.
func TestSystemPostmasterForm(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		if rec := pm.Do(http.MethodGet, "/admin/system-mail", nil); rec.Code != http.StatusForbidden {
			t.Errorf("a domain's postmaster got the System mail page: %d", rec.Code)
		}
		pm.Get("/d/a.test", http.StatusOK) // a page, for the CSRF token
		if rec := pm.Do(http.MethodPost, "/admin/system-mail/postmaster", url.Values{"csrf": {pm.CSRF}, "postmaster": {"pm@a.test"}}); rec.Code != http.StatusForbidden {
			t.Errorf("a domain's postmaster set the system postmaster: %d", rec.Code)
		}
		if a, err := f.S.SystemPostmaster(ctx, f.Sys); err != nil || !a.IsZero() {
			t.Fatalf("system postmaster %v, %v", a, err)
		}

		c := f.Client()
		c.Login("root", paneltest.AdminPW)
		d := c.Get("/admin/system-mail", http.StatusOK)
		if d.Find(`[data-testid=system-postmaster-form]`).Length() != 1 || d.Find(`[data-testid=system-mail]`).Length() != 0 {
			t.Errorf("page without the system mailbox: %s", paneltest.Text(d, "main"))
		}
		for typed, want := range map[string]string{"not an address": "postmaster", "nobody@a.test": "not a mailbox"} {
			rec := c.Post("/admin/system-mail/postmaster", url.Values{"postmaster": {typed}}, http.StatusUnprocessableEntity)
			if got := paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`); got == "" || (want != "postmaster" && !strings.Contains(got, want)) {
				t.Errorf("%q: field error %q", typed, got)
			}
		}
		d = c.Follow(c.Post("/admin/system-mail/postmaster", url.Values{"postmaster": {"bobby@b.test"}}, http.StatusSeeOther))
		if v, _ := d.Find(`#system-postmaster`).Attr("value"); v != "bobby@b.test" {
			t.Errorf("form shows %q", v)
		}
		if a, err := f.S.SystemPostmaster(ctx, f.Sys); err != nil || a.String() != "bobby@b.test" {
			t.Errorf("system postmaster %v, %v", a, err)
		}
		c.Post("/admin/system-mail/postmaster", url.Values{"postmaster": {""}}, http.StatusSeeOther)
		if a, err := f.S.SystemPostmaster(ctx, f.Sys); err != nil || !a.IsZero() {
			t.Errorf("system postmaster after clearing %v, %v", a, err)
		}
	})
}
