package panel_test

import (
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAPIDuplicateKeys: a body with a key twice, in any case and at any
// depth, is refused with 400 naming the key, and nothing is written; the
// same keys in different objects are fine.
func TestAPIDuplicateKeys(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		a := f.AKey
		mailboxes := "/api/v1/domains/a.test/mailboxes"
		for _, s := range []struct {
			method, path, body string
			status             int
			want               string
		}{
			{"POST", mailboxes, `{"local_part":"eve","local_part":"mallory","password":"` + paneltest.PW + `"}`, 400, `"error":"key \"local_part\" given more than once","field":"local_part"`},
			{"POST", mailboxes, `{"local_part":"eve","password":"` + paneltest.PW + `","LOCAL_PART":"mallory"}`, 400, `"field":"LOCAL_PART"`},
			{"POST", mailboxes, `{"local_part":"eve","password":"` + paneltest.PW + `","x":{"a":1,"b":[{"c":1,"c":2}]}}`, 400, `"field":"x.b.c"`},
			{"PATCH", mailboxes + "/ann", `{"may_send":true,"may_send":false}`, 400, `"field":"may_send"`},
			{"PUT", mailboxes + "/ann/forwards", `{"addresses":["out@elsewhere.test"],"addresses":[]}`, 400, `"field":"addresses"`},
			{"POST", "/api/v1/domains", `{"name":"d.test","name":"e.test"}`, 400, `"field":"name"`},
			{"GET", mailboxes + "?search=mallory", "", 200, `"total":0`},
			{"GET", mailboxes + "?search=eve", "", 200, `"total":0`},
			{"GET", mailboxes + "/ann", "", 200, `"may_send":true`},
			// Objects in a list each have their own keys.
			{"POST", mailboxes, `{"local_part":"eve","password":"` + paneltest.PW + `","x":[{"a":1},{"a":2}]}`, 400, `"field":"x"}`},
			{"POST", mailboxes, `{"local_part":"eve","password":"` + paneltest.PW + `"}`, 201, `"address":"eve@a.test"`},
		} {
			key := a
			if s.path == "/api/v1/domains" {
				key = f.AdmKey
			}
			rec := c.API(s.method, s.path, key, s.body)
			if rec.Code != s.status || !strings.Contains(rec.Body.String(), s.want) {
				t.Errorf("%s %s %s: %d %s\nwant %d with %s", s.method, s.path, s.body, rec.Code, paneltest.Snippet(rec.Body.String()), s.status, s.want)
			}
		}
	})
}
