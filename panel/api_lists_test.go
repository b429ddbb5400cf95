package panel_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAPILists: a domain key makes a list, adds members all or none, pages
// them, removes one and the list; another domain's key reaches none of it;
// a list's address follows the one rule for addresses.
func TestAPILists(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		base := "/api/v1/domains/a.test/lists"
		rec := c.API(http.MethodPost, base, f.AKey, `{"local_part":"team","kind":"announce","owners":["ann@a.test"],"bounce_threshold":2}`)
		if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"address":"team@a.test"`) {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		for body, want := range map[string]int{
			`{"local_part":"team"}`:                    http.StatusConflict,
			`{"local_part":"ann"}`:                     http.StatusConflict, // a mailbox
			`{"local_part":"team-owner"}`:              http.StatusConflict, // the list's command address
			`{"local_part":"x","kind":"party"}`:        http.StatusUnprocessableEntity,
			`{"local_part":"y","bounce_threshold":-1}`: http.StatusUnprocessableEntity,
		} {
			if rec := c.API(http.MethodPost, base, f.AKey, body); rec.Code != want {
				t.Errorf("create %s: %d, want %d %s", body, rec.Code, want, rec.Body)
			}
		}
		if rec := c.API(http.MethodPost, base+"/team/members", f.AKey, `{"addresses":["x1@ext.test","team@a.test"]}`); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("add with the list itself: %d", rec.Code)
		}
		if rec := c.API(http.MethodPost, base+"/team/members", f.AKey, `{"addresses":["x1@ext.test","x2@ext.test","carl@a.test"]}`); rec.Code != http.StatusNoContent {
			t.Fatalf("add: %d %s", rec.Code, rec.Body)
		}
		rec = c.API(http.MethodGet, base+"/team/members?search=ext&limit=1", f.AKey, "")
		var page struct {
			Members []struct {
				Address string `json:"address"`
				Member  bool   `json:"member"`
			} `json:"members"`
			Total int `json:"total"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil || page.Total != 2 || len(page.Members) != 1 || page.Members[0].Address != "x1@ext.test" {
			t.Fatalf("members page: %d %s", rec.Code, rec.Body)
		}
		if rec := c.API(http.MethodDelete, base+"/team/members/x1@ext.test", f.AKey, ""); rec.Code != http.StatusNoContent {
			t.Errorf("remove member: %d %s", rec.Code, rec.Body)
		}
		if rec := c.API(http.MethodDelete, base+"/team/members/x1@ext.test", f.AKey, ""); rec.Code != http.StatusNotFound {
			t.Errorf("remove a non-member: %d", rec.Code)
		}
		// b.test's key: not found, nothing changes.
		for _, r := range [][3]string{{http.MethodGet, base, ""}, {http.MethodGet, base + "/team/members", ""},
			{http.MethodPost, base + "/team/members", `{"addresses":["evil@ext.test"]}`}, {http.MethodDelete, base + "/team/members/x2@ext.test", ""},
			{http.MethodDelete, base + "/team", ""}, {http.MethodPost, base, `{"local_part":"evil"}`}} {
			if rec := c.API(r[0], r[1], f.BKey, r[2]); rec.Code != http.StatusNotFound {
				t.Errorf("b.test's key %s %s: %d", r[0], r[1], rec.Code)
			}
		}
		rec = c.API(http.MethodGet, base, f.AKey, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"kind":"announce"`) || strings.Contains(rec.Body.String(), "evil") {
			t.Errorf("lists: %d %s", rec.Code, rec.Body)
		}
		if rec := c.API(http.MethodDelete, base+"/team", f.AKey, ""); rec.Code != http.StatusNoContent {
			t.Errorf("remove list: %d", rec.Code)
		}
		if rec := c.API(http.MethodGet, base+"/team/members", f.AKey, ""); rec.Code != http.StatusNotFound {
			t.Errorf("members of a removed list: %d", rec.Code)
		}
	})
}
