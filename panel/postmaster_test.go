package panel_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestPostmasterPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)

		// The domain page: search, sort.
		d := c.Get("/d/a.test?q=ann&sort=name&desc=1", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=mailbox-address]`); got != "ann@a.test" {
			t.Errorf("search ann: %q", got)
		}
		d = c.Get("/d/a.test?sort=name&desc=1", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=mailbox-address]`); got != "pm@a.test carl@a.test ann@a.test" {
			t.Errorf("sorted by name, descending: %q", got)
		}
		if strings.Contains(d.Text(), "b.test") {
			t.Error("a.test's page shows b.test")
		}

		// Add a mailbox: a weak password is refused with the reason.
		c.Get("/d/a.test/mailboxes/new", http.StatusOK)
		form := url.Values{"local_part": {"dave"}, "password": {"password123"}, "full_name": {"Dave"}, "quota": {"1G"},
			"active": {"on"}, "store_mail": {"on"}, "may_send": {"on"}, "webmail": {"on"}, "expire_inactive_days": {"90"}, "expires": {"2031-05-01"}}
		rec := c.Post("/d/a.test/mailboxes", form, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`), "commonly used password") {
			t.Errorf("weak password: %s", paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`))
		}
		form.Set("password", paneltest.PW)
		form.Set("full_name", "Dave\r\nBcc: x@evil.test")
		rec = c.Post("/d/a.test/mailboxes", form, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "ust be on one line") {
			t.Error("CR/LF in the full name accepted")
		}
		form.Set("full_name", "Dave Example")
		d = c.Follow(c.Post("/d/a.test/mailboxes", form, http.StatusSeeOther))
		if paneltest.Text(d, `[data-testid=flash]`) != "Mailbox dave@a.test added." || paneltest.Text(d, `[data-testid=mailbox-heading]`) != "dave@a.test" {
			t.Errorf("after adding: %q", paneltest.Text(d, "main"))
		}
		m, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("dave@a.test"))
		if err != nil || m.QuotaBytes != 1<<30 || m.MayResponder || m.ExpireInactiveDays != 90 || m.ExpiresAt == nil || m.FullName != "Dave Example" {
			t.Fatalf("stored %+v %v", m, err)
		}
		if !strings.Contains(paneltest.Text(d, `[data-testid=mailbox-facts]`), "last login never") {
			t.Errorf("facts %q", paneltest.Text(d, `[data-testid=mailbox-facts]`))
		}

		// Edit every setting; a postmaster can't make postmasters.
		c.Post("/d/a.test/mailboxes/dave", url.Values{"full_name": {"Dave E."}, "quota": {""}, "active": {"on"}, "store_mail": {"on"},
			"may_forward": {"on"}, "expires": {""}, "expire_inactive_days": {"0"}, "postmaster": {"on"}}, http.StatusSeeOther)
		m, _ = f.S.Mailbox(ctx, f.Sys, paneltest.Addr("dave@a.test"))
		if m.FullName != "Dave E." || m.QuotaBytes != 0 || m.MaySend || !m.MayForward || m.ExpiresAt != nil || m.Postmaster {
			t.Errorf("after edit %+v", m)
		}
		c.Post("/d/a.test/mailboxes/dave", url.Values{"quota": {"lots"}}, http.StatusUnprocessableEntity)
		c.Post("/d/a.test/mailboxes/dave/password", url.Values{"password": {"Nq4$wv8!Tz2p"}, "password2": {"Nq4$wv8!Tz2p"}}, http.StatusSeeOther)
		if _, err := f.S.ResolveLogin(ctx, tenants.PanelLogin, "dave@a.test", "Nq4$wv8!Tz2p", ""); err != nil {
			t.Errorf("new password: %v", err)
		}
		c.Post("/d/a.test/mailboxes/dave/password", url.Values{"password": {"Nq4$wv8!Tz2p"}, "password2": {"other"}}, http.StatusUnprocessableEntity)

		// Aliases: several at once; a clash names the holder.
		d = c.Follow(c.Post("/d/a.test/mailboxes/dave/aliases", url.Values{"aliases": {"d1 d2\nd3@a.test"}}, http.StatusSeeOther))
		if got := paneltest.Text(d, `[data-testid=alias]`); got != "d1@a.test remove d2@a.test remove d3@a.test remove" {
			t.Errorf("aliases shown %q", got)
		}
		rec = c.Post("/d/a.test/mailboxes/dave/aliases", url.Values{"aliases": {"d4 ann d5"}}, http.StatusUnprocessableEntity)
		if got := paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`); got != "Address ann@a.test is already taken by a mailbox." {
			t.Errorf("clash: %q", got)
		}
		rec = c.Post("/d/a.test/mailboxes/ann/aliases", url.Values{"aliases": {"d2"}}, http.StatusUnprocessableEntity)
		if got := paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`); got != "Address d2@a.test is already taken by an alias of dave@a.test." {
			t.Errorf("clash with an alias: %q", got)
		}
		rec = c.Post("/d/a.test/mailboxes/ann/aliases", url.Values{"aliases": {"x@b.test"}}, http.StatusUnprocessableEntity)
		if strings.Contains(rec.Body.String(), "bob") {
			t.Error("an alias in another domain named b.test's holder")
		}
		c.Post("/d/a.test/mailboxes/dave/aliases/d1/delete", nil, http.StatusSeeOther)

		// Forwards with the store-mail switch; loops refused.
		rec = c.Post("/d/a.test/mailboxes/dave/forwards", url.Values{"addresses": {""}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "must store mail") {
			t.Error("store mail off without forwards accepted")
		}
		c.Post("/d/a.test/mailboxes/dave/forwards", url.Values{"addresses": {"ann@a.test, out@elsewhere.test"}}, http.StatusSeeOther)
		rec = c.Post("/d/a.test/mailboxes/ann/forwards", url.Values{"addresses": {"d2@a.test"}, "store_mail": {"on"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "would loop") {
			t.Error("forward loop accepted")
		}
		c.Post("/d/a.test/mailboxes/dave/forwards", url.Values{"addresses": {"x@y.test\r\nBcc: z@evil.test"}}, http.StatusUnprocessableEntity)
		fw, store, _ := f.S.Forwards(ctx, f.Sys, paneltest.Addr("dave@a.test"))
		if store || len(fw) != 2 {
			t.Errorf("forwards %v store %v", fw, store)
		}
		// The page has one store-mail switch, with the forwards; "Active"
		// is no permission. Saving the settings leaves store mail alone.
		d = c.Get("/d/a.test/mailboxes/dave", http.StatusOK)
		if n := d.Find(`[data-testid=mailbox-form] input[name=store_mail]`).Length(); n != 0 || d.Find(`[data-testid=forwards-form] input[name=store_mail]`).Length() != 1 {
			t.Errorf("%d store-mail switches in the settings form, want it with the forwards only", n)
		}
		if d.Find(`fieldset input[name=active]`).Length() != 0 {
			t.Error("Active sits under Permissions")
		}
		c.Post("/d/a.test/mailboxes/dave", url.Values{"settings": {"1"}, "full_name": {"Dave"}, "active": {"on"}, "may_send": {"on"}}, http.StatusSeeOther)
		if _, store, _ := f.S.Forwards(ctx, f.Sys, paneltest.Addr("dave@a.test")); store {
			t.Error("saving the settings turned store mail back on")
		}

		// Responder: CR/LF refused, set, revoke.
		rec = c.Post("/d/a.test/mailboxes/dave/responder", url.Values{"enabled": {"on"}, "subject": {"Away\r\nBcc: x@evil.test"}, "body": {"b"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "ust be on one line") {
			t.Error("CR/LF in the subject accepted")
		}
		d = c.Follow(c.Post("/d/a.test/mailboxes/dave/responder", url.Values{"enabled": {"on"}, "subject": {"Away"}, "body": {"Back\nMonday"}, "end": {"2099-01-01"}}, http.StatusSeeOther))
		// A date alone means through that day, and the form shows it back as given.
		if got := paneltest.Text(d, `[data-testid=responder-status]`); got != "On until the end of 2099-01-01 (UTC)." {
			t.Errorf("responder status %q", got)
		}
		if r, _ := f.S.Responder(ctx, f.Sys, paneltest.Addr("dave@a.test")); r.EndsAt == nil || !r.EndsAt.Equal(time.Date(2099, 1, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("responder ends at %v, want the end of 2099-01-01", r.EndsAt)
		}
		if !strings.Contains(d.Find(`input[name=end]`).AttrOr("value", ""), "2099-01-01") {
			t.Errorf("end field shows %q", d.Find(`input[name=end]`).AttrOr("value", ""))
		}
		rec = c.Post("/d/a.test/mailboxes/dave/responder", url.Values{"enabled": {"on"}, "subject": {"Away"}, "body": {"Back"}, "end": {"2001-01-01"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "already passed") {
			t.Error("a responder ending in the past was accepted")
		}
		c.Post("/d/a.test/mailboxes/dave/responder", url.Values{"subject": {"Away"}, "body": {"Back"}}, http.StatusSeeOther)
		if r, _ := f.S.Responder(ctx, f.Sys, paneltest.Addr("dave@a.test")); r.Enabled {
			t.Error("responder not revoked")
		}

		// Aliases page and catchrest.
		d = c.Get("/d/a.test/aliases", http.StatusOK)
		if !strings.Contains(paneltest.Text(d, `[data-testid=catchrest]`), "refused") || !strings.Contains(paneltest.Text(d, `[data-testid=domain-aliases]`), "d2@a.test") {
			t.Errorf("aliases page %q", paneltest.Text(d, "main"))
		}
		d = c.Follow(c.Post("/d/a.test/catchrest", url.Values{"mailbox": {"ann"}}, http.StatusSeeOther))
		if got := paneltest.Text(d, `[data-testid=catchrest]`); got != "Mail for unknown addresses goes to ann@a.test." {
			t.Errorf("catchrest %q", got)
		}
		c.Post("/d/a.test/catchrest", url.Values{"mailbox": {"nobody"}}, http.StatusUnprocessableEntity)
		c.Post("/d/a.test/aliases/d2/delete", nil, http.StatusSeeOther)
		c.Post("/d/a.test/catchrest", url.Values{"mailbox": {""}}, http.StatusSeeOther)
		if cr, _ := f.S.DomainCatchrest(ctx, f.Sys, "a.test"); cr.Mailbox != "" {
			t.Error("catchrest not removed")
		}

		// Export and the domain's audit log.
		_, err = f.S.UpdateMailbox(ctx, f.Sys, paneltest.Addr("ann@a.test"), tenants.MailboxUpdate{FullName: ptr("=1+2")})
		paneltest.Must(t, err)
		rec = c.Do(http.MethodGet, "/d/a.test/export.csv", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ann,'=1+2,") || strings.Contains(rec.Body.String(), "b.test") {
			t.Errorf("export %d:\n%s", rec.Code, rec.Body)
		}
		d = c.Get("/d/a.test/audit", http.StatusOK)
		audit := paneltest.Text(d, `[data-testid=audit]`)
		if !strings.Contains(audit, "mailbox.create dave@a.test") || !strings.Contains(audit, "pm@a.test 192.0.2.10") || strings.Contains(audit, "b.test") {
			t.Errorf("audit %q", audit)
		}

		// Remove the mailbox.
		c.Post("/d/a.test/mailboxes/dave/delete", nil, http.StatusSeeOther)
		c.Get("/d/a.test/mailboxes/dave", http.StatusNotFound)
	})
}

func ptr[T any](v T) *T { return &v }

func TestImportPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		d := c.Get("/d/a.test/import", http.StatusOK)
		// The template is a choice of the domain's mailboxes.
		if got := paneltest.Text(d, `select#template option`); got != "none: the default settings ann@a.test carl@a.test pm@a.test" {
			t.Errorf("template choices %q", got)
		}
		// Mailtraq's own header-less form is read, and the preview says how.
		rec := c.PostUpload("/d/a.test/import", url.Values{"template": {"ann"}}, "\"hl1\",\"Head Less\",\"Qz7!vr0009Kp#w\"\r\n", http.StatusOK)
		d = paneltest.Doc(t, rec)
		if got := paneltest.Text(d, `[data-testid=import-ok]`); got != "1 hl1@a.test Head Less" {
			t.Errorf("header-less file read as %q", got)
		}
		if !strings.Contains(paneltest.Text(d, `[data-testid=import-headerless]`), "no header line") {
			t.Error("the preview does not say the file had no header line")
		}
		if d.Find(`select#template option[selected][value=ann]`).Length() != 1 {
			t.Error("the chosen template is not kept")
		}
		bad := "\xef\xbb\xbfusername,password,description,aliases\r\n" +
			"new1,Qz7!vr0001Kp#w,\"Smith, New\",n1;n2\r\n" +
			"bob@b.test,Qz7!vr0002Kp#w,Intruder,\r\n" +
			"new2,password,Weak,\r\n"
		rec = c.PostUpload("/d/a.test/import", nil, bad, http.StatusUnprocessableEntity)
		d = paneltest.Doc(t, rec)
		if got := paneltest.Text(d, `[data-testid=import-problem]`); !strings.Contains(got, "3 bob@b.test Intruder username: bob@b.test is not in your domain a.test") || !strings.Contains(got, "4 new2") {
			t.Errorf("problems %q", got)
		}
		if got := paneltest.Text(d, `[data-testid=import-ok]`); got != "2 new1@a.test Smith, New n1@a.test n2@a.test" {
			t.Errorf("good rows %q", got)
		}
		if d.Find(`[data-testid=import-confirm]`).Length() != 0 {
			t.Error("a file with problems can be confirmed")
		}
		// Confirming such a file anyway writes nothing.
		c.Post("/d/a.test/import/confirm", url.Values{"csv": {bad}}, http.StatusUnprocessableEntity)
		if _, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("new1@a.test")); err == nil {
			t.Fatal("a refused import wrote new1")
		}
		rec = c.PostUpload("/d/a.test/import", url.Values{"template": {"nosuch"}}, bad, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "nosuch@a.test is not a mailbox") {
			t.Error("unknown template accepted")
		}
		c.PostUpload("/d/a.test/import", nil, "username,password\n"+strings.Repeat("a,b\n", 10001), http.StatusUnprocessableEntity)

		good := "username,password,description,aliases\nnew1,Qz7!vr0001Kp#w,\"Smith, New\",n1;n2\nnew2,Qz7!vr0003Kp#w,\"two\nlines?\",\n"
		good = strings.Replace(good, "\"two\nlines?\"", "=cmd|calc", 1)
		rec = c.PostUpload("/d/a.test/import", url.Values{"template": {"carl"}}, good, http.StatusOK)
		d = paneltest.Doc(t, rec)
		if got := paneltest.Text(d, `[data-testid=import-summary]`); got != "2 mailboxes to add, with the settings of carl@a.test." {
			t.Errorf("summary %q", got)
		}
		upload, _ := d.Find(`[data-testid=import-confirm-form] input[name=upload]`).Attr("value")
		if upload == "" {
			t.Fatal("no upload token in the confirmation form")
		}
		d = c.Follow(c.Post("/d/a.test/import/confirm", url.Values{"upload": {upload}}, http.StatusSeeOther))
		if got := paneltest.Text(d, `[data-testid=flash]`); got != "2 mailboxes imported into a.test." {
			t.Errorf("flash %q", got)
		}
		m, err := f.S.Mailbox(ctx, f.Sys, paneltest.Addr("new2@a.test"))
		if err != nil || m.FullName != "=cmd|calc" {
			t.Errorf("formula cell not stored literally: %+v %v", m, err)
		}
		if _, err := f.S.ResolveLogin(ctx, tenants.PanelLogin, "n2@a.test", "Qz7!vr0001Kp#w", ""); err != nil {
			t.Errorf("imported alias login: %v", err)
		}
	})
}
