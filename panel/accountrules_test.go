package panel_test

import (
	"net/http"
	"net/url"
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
