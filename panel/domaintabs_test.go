package panel_test

import (
	"net/http"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestDomainTabs: an administrator on a domain's postmaster pages gets
// that domain's tabs, the current one marked, and a way back to the
// domain's settings; a postmaster has the same pages in the header.
func TestDomainTabs(t *testing.T) {
	f := paneltest.NewFx(t, tenantstest.Open(t, database.SQLite))
	a := f.Client()
	a.Login("root", paneltest.AdminPW)
	d := a.Get("/d/a.test/aliases", http.StatusOK)
	if got := paneltest.Text(d, `[data-testid=domain-tabs] a`); got != "Domain settings Mailboxes Aliases Lists Contacts DNS Import Queue Rules Audit log" &&
		got != "Domain settings Mailboxes Aliases Lists Contacts DNS Import Rules Audit log" {
		t.Errorf("admin's domain tabs: %q", got)
	}
	if got := paneltest.Text(d, `[data-testid=domain-tabs] a[aria-current=page]`); got != "Aliases" {
		t.Errorf("current tab %q", got)
	}
	if href := d.Find(`[data-testid=domain-tabs] a`).First().AttrOr("href", ""); href != "/admin/domains/a.test" {
		t.Errorf("way back to the domain: %q", href)
	}
	if d := a.Get("/admin", http.StatusOK); d.Find(`[data-testid=domain-tabs]`).Length() != 0 {
		t.Error("domain tabs outside a domain's pages")
	}
	pm := f.Client()
	pm.Login("pm@a.test", paneltest.PW)
	d = pm.Get("/d/a.test/aliases", http.StatusOK)
	if d.Find(`[data-testid=domain-tabs]`).Length() != 0 {
		t.Error("a postmaster got the administrator's tabs")
	}
	if got := paneltest.Text(d, `header nav a[aria-current=page]`); got != "Aliases" {
		t.Errorf("postmaster's current link %q", got)
	}
}
