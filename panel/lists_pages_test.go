package panel_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestListPages: a postmaster makes a list, adds members (all or none),
// searches and pages them, pauses, resumes and removes one, and removes
// the list; a refused list address or member shows the form again with
// the reason; another domain's postmaster reaches none of it.
func TestListPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		d := c.Get("/d/a.test/lists", http.StatusOK)
		if d.Find(`[data-testid="list-form"]`).Length() != 1 {
			t.Fatal("no list form")
		}
		for _, bad := range []url.Values{{"local_part": {"ann"}}, {"local_part": {"x"}, "kind": {"party"}}, {"local_part": {"y"}, "owners": {"not-an-address"}}} {
			rec := c.Post("/d/a.test/lists", bad, http.StatusUnprocessableEntity)
			if !strings.Contains(rec.Body.String(), `data-testid="field-error"`) {
				t.Errorf("refused %v shows no reason", bad)
			}
		}
		d = c.Follow(c.Post("/d/a.test/lists", url.Values{"local_part": {"team"}, "kind": {"discussion"}, "owners": {"pm@a.test"}}, http.StatusSeeOther))
		if !strings.Contains(d.Find(`[data-testid="flash"]`).Text(), "team@a.test made") {
			t.Errorf("flash %q", d.Find(`[data-testid="flash"]`).Text())
		}
		rec := c.Post("/d/a.test/lists/team/members", url.Values{"addresses": {"x1@ext.test team@a.test"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "own address") {
			t.Errorf("adding the list to itself: %s", paneltest.Snippet(rec.Body.String()))
		}
		c.Post("/d/a.test/lists/team/members", url.Values{"addresses": {"x1@ext.test, x2@ext.test\nann@a.test"}}, http.StatusSeeOther)
		rows := func(path string) []string {
			var out []string
			c.Get(path, http.StatusOK).Find(`[data-testid="list-members"] tbody tr td:first-child`).Each(func(_ int, s *goquery.Selection) {
				out = append(out, strings.TrimSpace(s.Text()))
			})
			return out
		}
		if got := rows("/d/a.test/lists/team?q=ext"); len(got) != 2 {
			t.Errorf("search ext: %v", got)
		}
		rec = c.Do(http.MethodGet, "/d/a.test/lists/team/members.csv", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "x2@ext.test,true,false,false,false,false\r\n") {
			t.Errorf("export: %d %q", rec.Code, rec.Body.String())
		}
		c.Post("/d/a.test/lists/team/members/x1@ext.test/pause", url.Values{"paused": {"on"}}, http.StatusSeeOther)
		if ms, _ := f.S.ListMembers(t.Context(), f.Sys, paneltest.Addr("team@a.test")); !slices.ContainsFunc(ms, func(m tenants.ListMember) bool { return m.Address == "x1@ext.test" && m.Paused }) {
			t.Error("x1 not paused")
		}
		c.Post("/d/a.test/lists/team/members/x1@ext.test/pause", url.Values{"paused": {"off"}}, http.StatusSeeOther)
		c.Post("/d/a.test/lists/team/members/x2@ext.test/delete", nil, http.StatusSeeOther)
		if got := listMembers(t, f); strings.Join(got, " ") != "ann@a.test x1@ext.test" {
			t.Errorf("members %v", got)
		}

		// b.test's postmaster: not found everywhere, nothing changes.
		b := f.Client()
		b.Login("pm@b.test", paneltest.PW)
		b.Get("/d/b.test/lists", http.StatusOK)
		for _, p := range []string{"/d/a.test/lists", "/d/a.test/lists/team", "/d/a.test/lists/team/members.csv"} {
			if rec := b.Do(http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
				t.Errorf("b's postmaster GET %s: %d", p, rec.Code)
			}
		}
		for _, p := range []string{"/d/a.test/lists/team/delete", "/d/a.test/lists/team/members/ann@a.test/delete", "/d/a.test/lists/team/members/ann@a.test/pause"} {
			b.Post(p, nil, http.StatusNotFound)
		}
		c.Post("/d/a.test/lists/team/delete", nil, http.StatusSeeOther)
		if rec := c.Do(http.MethodGet, "/d/a.test/lists/team", nil); rec.Code != http.StatusNotFound {
			t.Errorf("removed list's page: %d", rec.Code)
		}
	})
}
