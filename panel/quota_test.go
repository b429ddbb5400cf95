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

// TestQuotaAllotment: the administrator's domain form sets the largest
// quota a postmaster may give a mailbox and the domain's storage total;
// the postmaster's mailbox forms stay within both, and within the default
// quota before a maximum is set.
func TestQuotaAllotment(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		adm := f.Client()
		adm.Login("root", paneltest.AdminPW)
		domainForm := func(def, max, total string, want int) string {
			t.Helper()
			adm.Get("/admin/domains/a.test", http.StatusOK)
			rec := adm.Post("/admin/domains/a.test", url.Values{"active": {"on"}, "default_quota": {def},
				"max_mailbox_quota": {max}, "storage_total": {total}}, want)
			return rec.Body.String()
		}
		domainForm("10M", "0", "0", http.StatusSeeOther)

		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		newForm := func(local, quota string) url.Values {
			return url.Values{"local_part": {local}, "password": {paneltest.PW}, "quota": {quota}, "active": {"on"}, "store_mail": {"on"}}
		}
		pm.Get("/d/a.test/mailboxes/new", http.StatusOK)
		rec := pm.Post("/d/a.test/mailboxes", newForm("huge", "1024T"), http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`), "At most 10M per mailbox") {
			t.Errorf("1 PiB refused with %q", paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`))
		}
		pm.Get("/d/a.test/mailboxes/ann", http.StatusOK)
		pm.Post("/d/a.test/mailboxes/ann", url.Values{"quota": {"11M"}, "active": {"on"}, "store_mail": {"on"}}, http.StatusUnprocessableEntity)
		pm.Post("/d/a.test/mailboxes/ann", url.Values{"quota": {"10M"}, "active": {"on"}, "store_mail": {"on"}}, http.StatusSeeOther)

		// The administrator's form: bad sizes and a default above the
		// maximum are refused on their fields; then 2G each, 3G in all.
		if body := domainForm("10M", "lots", "0", http.StatusUnprocessableEntity); !strings.Contains(body, "max_mailbox_quota") {
			t.Error("bad maximum not shown on its field")
		}
		if body := domainForm("10M", "1M", "0", http.StatusUnprocessableEntity); !strings.Contains(body, "must not exceed the per-mailbox maximum") {
			t.Error("default above the maximum accepted")
		}
		domainForm("10M", "2G", "3G", http.StatusSeeOther)
		d := adm.Get("/admin/domains/a.test", http.StatusOK)
		if v, _ := d.Find(`#max_mailbox_quota`).Attr("value"); v != "2G" {
			t.Errorf("maximum shown as %q", v)
		}
		if v, _ := d.Find(`#storage_total`).Attr("value"); v != "3G" {
			t.Errorf("total shown as %q", v)
		}
		dom, err := f.S.Domain(ctx, f.Sys, "a.test")
		if err != nil || dom.MaxMailboxQuota != 2<<30 || dom.StorageTotal != 3<<30 {
			t.Fatalf("domain %+v %v", dom, err)
		}
		pm.Get("/d/a.test/mailboxes/ann", http.StatusOK)
		pm.Post("/d/a.test/mailboxes/ann", url.Values{"quota": {"2G"}, "active": {"on"}, "store_mail": {"on"}}, http.StatusSeeOther)
		pm.Get("/d/a.test/mailboxes/new", http.StatusOK)
		rec = pm.Post("/d/a.test/mailboxes", newForm("big", "2G"), http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`), "storage total is 3G") {
			t.Errorf("past the total: %q", paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`))
		}
		// An administrator, on the same form, may give anything.
		adm.Get("/d/a.test/mailboxes/new", http.StatusOK)
		adm.Post("/d/a.test/mailboxes", newForm("big", "1024T"), http.StatusSeeOther)
	})
}
