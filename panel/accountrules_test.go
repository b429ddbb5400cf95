package panel_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestPasswordChangeRule: the postmaster turns "users may change their own
// password" off on the domain's Rules page; the user's settings page says
// so and its password form (still posted) is refused; the mailbox form
// sets "expire N days after creation".
func TestPasswordChangeRule(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		if d := pm.Get("/d/a.test/rules", http.StatusOK); d.Find(`input[name=users_change_password]:checked`).Length() != 1 {
			t.Fatal("users may not change their password by default")
		}
		pm.Post("/d/a.test/rules", url.Values{}, http.StatusSeeOther)
		ann := f.Client()
		ann.Login("ann@a.test", paneltest.PW)
		d := ann.Get("/settings", http.StatusOK)
		if d.Find(`[data-testid=password-locked]`).Length() != 1 || d.Find(`input[name=current_password]`).Length() != 0 {
			t.Fatal("settings page offers a password change")
		}
		ann.Post("/settings/password", url.Values{"current_password": {paneltest.PW}, "password": {"Nq4$wv8!Tz2p"}, "password2": {"Nq4$wv8!Tz2p"}}, http.StatusUnprocessableEntity)
		pm.Get("/d/a.test/rules", http.StatusOK)
		pm.Post("/d/a.test/rules", url.Values{"users_change_password": {"on"}}, http.StatusSeeOther)
		ann.Get("/settings", http.StatusOK)
		ann.Post("/settings/password", url.Values{"current_password": {paneltest.PW}, "password": {"Nq4$wv8!Tz2p"}, "password2": {"Nq4$wv8!Tz2p"}}, http.StatusSeeOther)

		pm.Get("/d/a.test/mailboxes/carl", http.StatusOK)
		form := url.Values{"active": {"on"}, "store_mail": {"on"}, "webmail": {"on"}, "expire_after_days": {"30"}, "expire_inactive_days": {"0"}}
		pm.Post("/d/a.test/mailboxes/carl", form, http.StatusSeeOther)
		m, err := f.S.Mailbox(t.Context(), f.Sys, paneltest.Addr("carl@a.test"))
		paneltest.Must(t, err)
		if m.ExpireAfterDays != 30 {
			t.Fatalf("expire after days %d", m.ExpireAfterDays)
		}
	})
}

// TestRetentionPages: the postmaster sets the domain's message expiry
// defaults and lets users change their own; a user sees the defaults and
// sets their own, refused once the domain no longer lets them.
func TestRetentionPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		pm.Get("/d/a.test/rules", http.StatusOK)
		pm.Post("/d/a.test/rules", url.Values{"users_change_password": {"on"}, "retention": {"Trash x"}}, http.StatusUnprocessableEntity)
		pm.Post("/d/a.test/rules", url.Values{"users_change_password": {"on"}, "users_set_retention": {"on"}, "retention": {"Trash 30\nJunk 30"}}, http.StatusSeeOther)
		if d := pm.Get("/d/a.test/rules", http.StatusOK); paneltest.Text(d, `#retention`) != "Junk 30 Trash 30" {
			t.Fatalf("retention %q", paneltest.Text(d, `#retention`))
		}
		ann := f.Client()
		ann.Login("ann@a.test", paneltest.PW)
		d := ann.Get("/settings", http.StatusOK)
		if !strings.Contains(paneltest.Text(d, `[data-testid=retention]`), "Trash after 30 days") || d.Find(`[data-testid=retention-form]`).Length() != 1 {
			t.Fatal("settings page lacks the message expiry")
		}
		ann.Post("/settings/retention", url.Values{"retention": {"Junk 7"}}, http.StatusSeeOther)
		own, _, _, err := f.S.MailboxRetention(t.Context(), f.Sys, paneltest.Addr("ann@a.test"))
		paneltest.Must(t, err)
		if len(own) != 1 || own[0].Folder != "Junk" || own[0].Days != 7 {
			t.Fatalf("own %+v", own)
		}
		pm.Get("/d/a.test/rules", http.StatusOK)
		pm.Post("/d/a.test/rules", url.Values{"users_change_password": {"on"}, "retention": {"Trash 30"}}, http.StatusSeeOther)
		ann.Get("/settings", http.StatusOK)
		ann.Post("/settings/retention", url.Values{"retention": {"Junk 1"}}, http.StatusUnprocessableEntity)
		own, _, _, err = f.S.MailboxRetention(t.Context(), f.Sys, paneltest.Addr("ann@a.test"))
		paneltest.Must(t, err)
		if own[0].Days != 7 {
			t.Fatal("the user changed their expiry without the permission")
		}
	})
}

// TestLeaverPage: the postmaster sets a departing user up in one form:
// sign-in off (the user's panel session ends, their sign-in is refused),
// the forward and the responder; another domain's mailbox is not found.
func TestLeaverPage(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		carl := f.Client()
		carl.Login("carl@a.test", paneltest.PW)
		carl.Get("/settings", http.StatusOK)
		pm := f.Client()
		pm.Login("pm@a.test", paneltest.PW)
		pm.Get("/d/a.test/mailboxes/carl", http.StatusOK)
		pm.Post("/d/b.test/mailboxes/bob/leaver", url.Values{"addresses": {"pm@a.test"}}, http.StatusNotFound)
		pm.Post("/d/a.test/mailboxes/carl/leaver", url.Values{"addresses": {"carl@a.test"}}, http.StatusUnprocessableEntity)
		pm.Post("/d/a.test/mailboxes/carl/leaver", url.Values{"addresses": {"pm@a.test"}, "subject": {"Carl has left"}, "body": {"Write to pm@a.test"}}, http.StatusSeeOther)
		if d := pm.Get("/d/a.test/mailboxes/carl", http.StatusOK); d.Find(`[data-testid=sign-in-off]`).Length() != 1 {
			t.Fatal("the page does not say sign-in is off")
		}
		carl.Get("/settings", http.StatusSeeOther)
		carl.Get("/login", http.StatusOK)
		carl.Post("/login", url.Values{"login": {"carl@a.test"}, "password": {paneltest.PW}}, http.StatusUnauthorized)
		fw, store, err := f.S.Forwards(t.Context(), f.Sys, paneltest.Addr("carl@a.test"))
		paneltest.Must(t, err)
		r, err := f.S.Responder(t.Context(), f.Sys, paneltest.Addr("carl@a.test"))
		paneltest.Must(t, err)
		if len(fw) != 1 || store || !r.Enabled {
			t.Fatalf("forwards %v store %v responder %v", fw, store, r.Enabled)
		}
	})
}
