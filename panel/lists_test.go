package panel_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func listMembers(t *testing.T, f *paneltest.Fx) []string {
	t.Helper()
	ms, err := f.S.ListMembers(t.Context(), f.Sys, paneltest.Addr("team@a.test"))
	paneltest.Must(t, err)
	var out []string
	for _, m := range ms {
		if m.Member {
			out = append(out, m.Address)
		}
	}
	return out
}

// TestListLinks: a post's one-click unsubscribe (RFC 8058) and a
// confirmation link work without a panel session or CSRF token, outside
// the CSRF group; a GET changes nothing (link checkers fetch links); a
// changed token, a used one and a replayed confirmation change nothing.
func TestListLinks(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := t.Context()
		l, err := f.S.CreateList(ctx, f.Sys, tenants.ListInput{Address: paneltest.Addr("team@a.test")})
		paneltest.Must(t, err)
		paneltest.Must(t, f.S.AddListMembers(ctx, f.Sys, paneltest.Addr("team@a.test"),
			[]address.Address{paneltest.Addr("ann@a.test"), paneltest.Addr("x@ext.test")}))
		tok, err := f.S.UnsubscribeToken(ctx, l, "ann@a.test")
		paneltest.Must(t, err)
		c := f.Client() // a mail provider: no cookie, no CSRF token
		oneClick := url.Values{"List-Unsubscribe": {"One-Click"}}

		bad := []byte(tok)
		bad[len(bad)/2] ^= 2
		if rec := c.Do(http.MethodPost, "/lists/u/"+string(bad), oneClick); rec.Code != http.StatusForbidden {
			t.Errorf("tampered one-click: %d", rec.Code)
		}
		if rec := c.Do(http.MethodGet, "/lists/u/"+tok, nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<form") {
			t.Errorf("GET of the link: %d", rec.Code)
		}
		if !slices.Contains(listMembers(t, f), "ann@a.test") {
			t.Fatal("a tampered POST or a GET unsubscribed ann")
		}
		rec := c.Do(http.MethodPost, "/lists/u/"+tok, oneClick)
		if rec.Code != http.StatusOK {
			t.Fatalf("one-click POST: %d\n%s", rec.Code, paneltest.Snippet(rec.Body.String()))
		}
		if slices.Contains(listMembers(t, f), "ann@a.test") {
			t.Fatal("ann still a member after the one-click POST")
		}

		ctok, err := f.S.RequestListChange(ctx, l, paneltest.Addr("new@ext.test"), tenants.ListRoleSubscribe, "192.0.2.1")
		paneltest.Must(t, err)
		if rec := c.Do(http.MethodGet, "/lists/confirm/"+ctok, nil); rec.Code != http.StatusOK || slices.Contains(listMembers(t, f), "new@ext.test") {
			t.Errorf("GET of the confirmation link: %d, or it subscribed", rec.Code)
		}
		if rec := c.Do(http.MethodPost, "/lists/confirm/"+ctok, url.Values{}); rec.Code != http.StatusOK || !slices.Contains(listMembers(t, f), "new@ext.test") {
			t.Errorf("confirmation POST: %d, members %v", rec.Code, listMembers(t, f))
		}
		if rec := c.Do(http.MethodPost, "/lists/confirm/"+ctok, url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("replayed confirmation: %d", rec.Code)
		}
		if rec := c.Do(http.MethodPost, "/lists/confirm/"+strings.Repeat("a", 2000), url.Values{}); rec.Code != http.StatusBadRequest {
			t.Errorf("overlong token: %d", rec.Code)
		}
	})
}
