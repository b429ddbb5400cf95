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

// TestSessionsPage: a user sees their sessions (this browser marked) and
// recent logins, ends another browser's session (signed out at its next
// request) and their mail programs' sessions; another user can't end
// theirs.
func TestSessionsPage(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		phone, desk, carl := f.Client(), f.Client(), f.Client()
		phone.Remote = "198.51.100.7:4000"
		phone.Login("ann@a.test", paneltest.PW)
		desk.Login("ann@a.test", paneltest.PW)
		carl.Login("carl@a.test", paneltest.PW)
		d := desk.Get("/settings/sessions", http.StatusOK)
		rows := d.Find(`[data-testid=session-row]`)
		if rows.Length() != 2 || !strings.Contains(paneltest.Text(d, `[data-testid=panel-sessions]`), "this browser") {
			t.Fatalf("%d sessions", rows.Length())
		}
		if !strings.Contains(paneltest.Text(d, `[data-testid=protocol-logins]`), "198.51.100.7") {
			t.Fatal("the phone's login is not listed")
		}
		ref, _ := d.Find(`input[name=ref]`).Attr("value")
		carl.Get("/settings/sessions", http.StatusOK)
		carl.Post("/settings/sessions/end", url.Values{"ref": {ref}}, http.StatusNotFound)
		phone.Get("/settings", http.StatusOK)
		desk.Post("/settings/sessions/end", url.Values{"ref": {ref}}, http.StatusSeeOther)
		phone.Get("/settings", http.StatusSeeOther)
		desk.Get("/settings", http.StatusOK)
		desk.Post("/settings/sessions/end-mail", nil, http.StatusSeeOther)
		m, err := f.S.Mailbox(t.Context(), f.Sys, paneltest.Addr("ann@a.test"))
		paneltest.Must(t, err)
		if m.SessionsEndedAt == nil {
			t.Fatal("mail sessions not ended")
		}
	})
}
