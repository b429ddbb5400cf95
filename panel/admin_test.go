package panel_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestAdminPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		c := f.Client()
		c.Login("root", paneltest.AdminPW)
		d := c.Get("/admin", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=domain-name]`); got != "a.test b.test" {
			t.Errorf("domains %q", got)
		}
		// The fixture gives a.test and b.test one postmaster each.
		if got := paneltest.Text(d, `[data-testid=domain-postmasters]`); got != "1 1" {
			t.Errorf("postmasters per domain %q, want 1 1", got)
		}
		rec := c.Post("/admin/domains", url.Values{"name": {"bad_name.test"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`), "not allowed") {
			t.Error("bad domain name accepted")
		}
		c.Post("/admin/domains", url.Values{"name": {"a.test"}}, http.StatusUnprocessableEntity)
		d = c.Follow(c.Post("/admin/domains", url.Values{"name": {"Bücher.test"}, "description": {"books"}}, http.StatusSeeOther))
		if paneltest.Text(d, `[data-testid=domain-heading]`) != "xn--bcher-kva.test" {
			t.Errorf("new domain page %q", paneltest.Text(d, "h1"))
		}
		d = c.Get("/admin?q=bcher", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=domain-name]`); got != "xn--bcher-kva.test" {
			t.Errorf("domain search %q", got)
		}
		c.Get("/admin/domains/nosuch.test", http.StatusNotFound)
		// Limits, alias domain, postmaster address.
		form := url.Values{"description": {"Books"}, "active": {"on"}, "max_mailboxes": {"5"}, "max_aliases": {"x"}, "default_quota": {"1G"}}
		c.Post("/admin/domains/xn--bcher-kva.test", form, http.StatusUnprocessableEntity)
		form.Set("max_aliases", "7")
		form.Set("alias_of", "a.test")
		c.Post("/admin/domains/xn--bcher-kva.test", form, http.StatusSeeOther)
		dom, _ := f.S.Domain(ctx, f.Sys, "xn--bcher-kva.test")
		if dom.MaxMailboxes != 5 || dom.MaxAliases != 7 || dom.DefaultQuota != 1<<30 || dom.AliasOfID == nil || dom.Description != "Books" {
			t.Errorf("domain %+v", dom)
		}
		c.Post("/admin/domains/a.test", url.Values{"active": {"on"}, "postmaster": {"ann@a.test"}, "description": {"desc\nwith break"}}, http.StatusUnprocessableEntity)
		c.Post("/admin/domains/a.test", url.Values{"active": {"on"}, "postmaster": {"ann@a.test"}}, http.StatusSeeOther)
		// Postmasters: name and revoke.
		rec = c.Post("/admin/domains/a.test/postmasters", url.Values{"local_part": {"nobody"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "nobody@a.test is not a mailbox") {
			t.Error("postmaster of a missing mailbox")
		}
		d = c.Follow(c.Post("/admin/domains/a.test/postmasters", url.Values{"local_part": {"ann@a.test"}}, http.StatusSeeOther))
		if got := paneltest.Text(d, `[data-testid=postmasters]`); got != "ann@a.test revoke pm@a.test revoke" {
			t.Errorf("postmasters %q", got)
		}
		c.Post("/admin/domains/a.test/postmasters/ann/revoke", nil, http.StatusSeeOther)
		if m, _ := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("ann@a.test")); m.Postmaster {
			t.Error("postmaster not revoked")
		}
		// Admins use the domain pages of any domain, and may name postmasters there.
		c.Get("/d/b.test", http.StatusOK)
		c.Get("/d/b.test/mailboxes/new", http.StatusOK)
		c.Post("/d/b.test/mailboxes", url.Values{"local_part": {"boss"}, "password": {paneltest.PW}, "active": {"on"}, "store_mail": {"on"}, "postmaster": {"on"}}, http.StatusSeeOther)
		if m, _ := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("boss@b.test")); m == nil || !m.Postmaster {
			t.Error("admin could not add a postmaster")
		}
		// All mailboxes, search across domains, the audit log.
		d = c.Get("/admin/mailboxes?q=secret-b", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=mailbox-address]`); got != "bob@b.test dora@b.test" {
			t.Errorf("all mailboxes search %q", got)
		}
		d = c.Get("/admin/search?q=bob", http.StatusOK)
		if !strings.Contains(paneltest.Text(d, `[data-testid=found-mailboxes]`), "bob@b.test") || !strings.Contains(paneltest.Text(d, `[data-testid=found-aliases]`), "bobby@b.test") {
			t.Errorf("search %q", paneltest.Text(d, "main"))
		}
		c.Get("/admin/search", http.StatusOK)
		d = c.Get("/admin/audit", http.StatusOK)
		if !strings.Contains(paneltest.Text(d, `[data-testid=audit]`), "root 192.0.2.10 a.test domain.update") {
			t.Errorf("audit %q", paneltest.Text(d, `[data-testid=audit] tbody tr`))
		}
		// Remove: refused while not empty, then with force.
		// The refusal comes back at the top of the domain's page (a GET, so
		// a reload does not post again), naming the checkbox to tick.
		rec = c.Post("/admin/domains/b.test/delete", nil, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != "/admin/domains/b.test" {
			t.Errorf("refused removal went to %q", loc)
		}
		d = c.Follow(rec)
		if got := paneltest.Text(d, `[data-testid=flash-refused]`); got != "Not removed: b.test still has 4 mailboxes. To remove them with the domain, tick “Also remove its mailboxes, aliases and alias domains” and press Remove b.test again." {
			t.Errorf("non-empty domain removal explained as %q", got)
		}
		c.Post("/admin/domains/b.test/delete", url.Values{"force": {"on"}}, http.StatusSeeOther)
		if _, err := f.S.Domain(ctx, f.Sys, "b.test"); err == nil {
			t.Error("b.test not removed")
		}
		if _, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("bob@b.test")); err == nil {
			t.Error("bob not removed")
		}
		es, _, _ := f.S.AuditRecords(ctx, f.Sys, tenants.AuditQuery{Limit: 1})
		if es[0].Action != "domain.delete" || es[0].Actor != "root" {
			t.Errorf("audit %+v", es[0])
		}
	})
}

func TestSettingsPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		c := f.Client()
		c.Login("ann@a.test", paneltest.PW)
		d := c.Get("/settings", http.StatusOK)
		if d.Find(`[data-testid=responder-form]`).Length() != 1 || d.Find(`[data-testid=forwards-form]`).Length() != 1 {
			t.Fatal("settings page lacks forms")
		}
		rec := c.Post("/settings/password", url.Values{"current_password": {"wrong"}, "password": {"Nq4$wv8!Tz2p"}, "password2": {"Nq4$wv8!Tz2p"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "not your current password") {
			t.Error("wrong current password accepted")
		}
		rec = c.Post("/settings/password", url.Values{"current_password": {paneltest.PW}, "password": {"ann12345678"}, "password2": {"ann12345678"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`), "password") {
			t.Error("weak password accepted without reason")
		}
		c.Post("/settings/password", url.Values{"current_password": {paneltest.PW}, "password": {"Nq4$wv8!Tz2p"}, "password2": {"Nq4$wv8!Tz2p"}}, http.StatusSeeOther)
		if _, err := f.S.ResolveLogin(ctx, tenants.PanelLogin, "ann@a.test", "Nq4$wv8!Tz2p", ""); err != nil {
			t.Errorf("new password does not log in: %v", err)
		}
		c.Post("/settings/responder", url.Values{"enabled": {"on"}, "subject": {"Out\rof office"}, "body": {"x"}}, http.StatusUnprocessableEntity)
		d = c.Follow(c.Post("/settings/responder", url.Values{"enabled": {"on"}, "subject": {"Out of office"}, "body": {"Back soon"}}, http.StatusSeeOther))
		if got := paneltest.Text(d, `[data-testid=responder-status]`); got != "On: answering incoming mail." {
			t.Errorf("status %q", got)
		}
		c.Post("/settings/forwards", url.Values{"addresses": {"ann@a.test"}, "store_mail": {"on"}}, http.StatusUnprocessableEntity)
		c.Post("/settings/forwards", url.Values{"addresses": {"ann.private@elsewhere.test"}}, http.StatusSeeOther)
		if fw, store, _ := f.S.Forwards(ctx, f.Sys, paneltest.Addr("ann@a.test")); store || len(fw) != 1 {
			t.Errorf("forwards %v %v", fw, store)
		}
		// Without the permissions the forms are gone and posts refused.
		off := false
		_, err := f.S.UpdateMailbox(ctx, f.Sys, paneltest.Addr("ann@a.test"), tenants.MailboxUpdate{MayForward: &off, MayResponder: &off})
		paneltest.Must(t, err)
		d = c.Get("/settings", http.StatusOK)
		if d.Find(`[data-testid=responder-form]`).Length() != 0 || d.Find(`[data-testid=forwards-form]`).Length() != 0 {
			t.Error("forms shown without permission")
		}
		c.Post("/settings/forwards", url.Values{"addresses": {"x@elsewhere.test"}}, http.StatusForbidden)
		c.Post("/settings/responder", url.Values{"subject": {"a"}, "body": {"b"}}, http.StatusForbidden)
		if fw, _, _ := f.S.Forwards(ctx, f.Sys, paneltest.Addr("ann@a.test")); len(fw) != 1 || fw[0] != "ann.private@elsewhere.test" {
			t.Errorf("forwards changed without permission: %v", fw)
		}
	})
}
