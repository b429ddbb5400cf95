package panel_test

import (
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestAPI(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		type step struct {
			method, path, key, body string
			status                  int
			want                    string // substring of the answer
		}
		adm, a := f.AdmKey, f.AKey
		for _, s := range []step{
			{"GET", "/api/v1/domains", "", "", 401, `"error":"an API key is required`},
			{"GET", "/api/v1/domains", "pd_nope", "", 401, `"invalid API key"`},
			{"GET", "/api/v1/domains", a, "", 200, `"name":"a.test"`},
			{"POST", "/api/v1/domains", a, `{"name":"c.test"}`, 403, `"error"`},
			{"POST", "/api/v1/domains", adm, `{"name":"c.test","description":"C"}`, 201, `"name":"c.test"`},
			{"POST", "/api/v1/domains", adm, `{"name":"c.test"}`, 409, `"error"`},
			{"POST", "/api/v1/domains", adm, `{"name":"bad_name"}`, 422, `"field":"name"`},
			{"POST", "/api/v1/domains", adm, `{"name":"d.test","extra":1}`, 400, `"field":"extra"`},
			{"POST", "/api/v1/domains", adm, `{"name":5}`, 400, `"field":"name"`},
			{"POST", "/api/v1/domains", adm, `{"name":"d.test"} {}`, 400, `one JSON value`},
			{"POST", "/api/v1/domains", adm, strings.Repeat("[", 20) + strings.Repeat("]", 20), 400, `nested deeper`},
			{"POST", "/api/v1/domains", adm, `{"name":"` + strings.Repeat("x", 300<<10) + `"}`, 413, `larger than`},
			{"POST", "/api/v1/domains", adm, ``, 400, `a JSON body is required`},
			{"DELETE", "/api/v1/domains/c.test", a, "", 403, `"error"`},
			{"DELETE", "/api/v1/domains/c.test", adm, "", 204, ``},
			{"DELETE", "/api/v1/domains/a.test", adm, "", 409, `force=true`},
			{"GET", "/api/v1/domains/a.test/mailboxes?search=ann", a, "", 200, `"total":1`},
			// What a domain key may grant: the admin sets it (PATCH
			// /domains/{domain}, admin keys only); until a maximum is set,
			// the default quota is the most.
			{"PATCH", "/api/v1/domains/a.test", a, `{"max_mailbox_quota_bytes":1125899906842624}`, 403, `"error"`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"default_quota_bytes":10485760}`, 200, `"default_quota_bytes":10485760`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"huge","password":"` + paneltest.PW + `","quota_bytes":1125899906842624}`, 422, `"field":"quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":1125899906842624}`, 422, `"field":"quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":10485761}`, 422, `at most 10M per mailbox`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":10485760}`, 200, `"quota_bytes":10485760`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"max_mailbox_quota_bytes":1048576}`, 422, `"field":"max_mailbox_quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"storage_total_bytes":-1}`, 422, `"field":"storage_total_bytes"`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"max_mailbox_quota_bytes":2147483648,"storage_total_bytes":3221225472}`, 200, `"storage_total_bytes":3221225472`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":2147483649}`, 422, `"field":"quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":2147483648}`, 200, `"quota_bytes":2147483648`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"huge","password":"` + paneltest.PW + `","quota_bytes":2147483648}`, 422, `storage total is 3G`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", adm, `{"quota_bytes":1125899906842624}`, 200, `"quota_bytes":1125899906842624`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", adm, `{"quota_bytes":0}`, 200, `"quota_bytes":0`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"default_quota_bytes":0,"max_mailbox_quota_bytes":0,"storage_total_bytes":0}`, 200, `"storage_total_bytes":0`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"password"}`, 422, `"field":"password"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"` + paneltest.PW + `","full_name":"Eve\r\nBcc: x@y"}`, 422, `"field":"full_name"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"password":"` + paneltest.PW + `"}`, 422, `"field":"local_part"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"` + paneltest.PW + `","full_name":"Eve","quota_bytes":1073741824,"store_mail":true}`, 201, `"address":"eve@a.test"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"` + paneltest.PW + `"}`, 409, `already taken by a mailbox`},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve", a, "", 200, `"quota_bytes":1073741824`},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve", a, "", 200, `"in_directory":true,"may_edit_gab":false`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/eve", a, `{"in_directory":false,"may_edit_gab":true}`, 200, `"in_directory":false,"may_edit_gab":true`},
			{"GET", "/api/v1/domains/a.test/mailboxes?search=eve", a, "", 200, `"in_directory":false`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/eve", f.BKey, `{"in_directory":true}`, 404, `"error"`},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve", a, "", 200, `"in_directory":false`},
			{"POST", "/api/v1/domains/a.test/contacts", a, `{"uid":"gina","full_name":"Gina Global","emails":["gina@partner.test"],"org":"Partner","title":"Buyer"}`, 201, `"uid":"gina"`},
			{"POST", "/api/v1/domains/a.test/contacts", a, `{"uid":"gina","full_name":"Gina G.","emails":["gina@partner.test"]}`, 200, `"full_name":"Gina G."`},
			{"POST", "/api/v1/domains/a.test/contacts", a, `{"full_name":"Evil\r\nEMAIL:x@evil.test"}`, 422, `"field":"full_name"`},
			{"POST", "/api/v1/domains/a.test/contacts", a, `{"emails":["not an address"]}`, 422, `"field":"emails"`},
			{"POST", "/api/v1/domains/b.test/contacts", a, `{"full_name":"Intruder"}`, 404, `"error"`},
			{"GET", "/api/v1/domains/a.test/contacts?search=partner", a, "", 200, `"total":1`},
			{"GET", "/api/v1/domains/b.test/contacts", a, "", 404, `"error"`},
			{"DELETE", "/api/v1/domains/b.test/contacts/gina", a, "", 404, `"error"`},
			{"DELETE", "/api/v1/domains/a.test/contacts/gina", a, "", 204, ``},
			{"DELETE", "/api/v1/domains/a.test/contacts/gina", a, "", 404, `"error"`},
			{"GET", "/api/v1/domains/a.test/contacts", adm, "", 200, `"total":0`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/eve", a, `{"full_name":"Eve E.","may_send":false,"expires_at":"2031-01-01"}`, 200, `"expires_at":"2031-01-01T00:00:00Z"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/eve", a, `{"expires_at":null}`, 200, `"expires_at":null`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/eve", a, `{"expires_at":"soon"}`, 422, `"field":"expires_at"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/eve", a, `{"postmaster":true}`, 403, `"error"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/eve", adm, `{"postmaster":true}`, 200, `"postmaster":true`},
			{"POST", "/api/v1/domains/a.test/aliases", a, `{"local_part":"sales","mailbox":"eve"}`, 201, `"address":"sales@a.test"`},
			{"POST", "/api/v1/domains/a.test/aliases", a, `{"local_part":"sales","mailbox":"ann"}`, 409, `taken by an alias of eve@a.test`},
			{"POST", "/api/v1/domains/a.test/aliases", a, `{"local_part":"x","mailbox":"nobody"}`, 404, `"error"`},
			{"GET", "/api/v1/domains/a.test/aliases", a, "", 200, `"mailbox":"eve"`},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve", a, "", 200, `"aliases":["sales@a.test"]`},
			{"PUT", "/api/v1/domains/a.test/mailboxes/eve/forwards", a, `{"addresses":[],"store_mail":false}`, 422, `"field":"store_mail"`},
			{"PUT", "/api/v1/domains/a.test/mailboxes/eve/forwards", a, `{"addresses":["x@y.test\r\nBcc: z@evil.test"]}`, 422, `"field":"addresses"`},
			{"PUT", "/api/v1/domains/a.test/mailboxes/eve/forwards", a, `{"addresses":["sales@a.test"]}`, 422, `would loop`},
			{"PUT", "/api/v1/domains/a.test/mailboxes/eve/forwards", a, `{"addresses":["out@elsewhere.test"],"store_mail":false}`, 200, `"store_mail":false`},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve/forwards", a, "", 200, `"addresses":["out@elsewhere.test"]`},
			{"PUT", "/api/v1/domains/a.test/mailboxes/eve/responder", a, `{"enabled":true,"subject":"Away\nBcc: x@evil.test","body":"b"}`, 422, `"field":"subject"`},
			{"PUT", "/api/v1/domains/a.test/mailboxes/eve/responder", a, `{"enabled":true,"subject":"Away","body":"b","start":"2030-01-01T00:00:00Z","end":"2029-01-01T00:00:00Z"}`, 422, `"field":"end"`},
			{"PUT", "/api/v1/domains/a.test/mailboxes/eve/responder", a, `{"enabled":true,"subject":"Away","body":"Back","start":"2030-01-01T08:00:00+02:00","end":"2030-02-01"}`, 200, `"start":"2030-01-01T06:00:00Z"`},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve/responder", a, "", 200, `"subject":"Away"`},
			{"DELETE", "/api/v1/domains/a.test/aliases/sales", a, "", 204, ``},
			{"DELETE", "/api/v1/domains/a.test/aliases/sales", a, "", 404, `"error"`},
			{"DELETE", "/api/v1/domains/a.test/mailboxes/eve", a, "", 204, ``},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve", a, "", 404, `"error":"not found"`},
		} {
			rec := c.API(s.method, s.path, s.key, s.body)
			if rec.Code != s.status || !strings.Contains(rec.Body.String(), s.want) {
				t.Errorf("%s %s: %d %s\nwant %d with %s", s.method, s.path, rec.Code, paneltest.Snippet(rec.Body.String()), s.status, s.want)
			}
			if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: error as %s", s.method, s.path, rec.Header().Get("Content-Type"))
			}
		}
		// The panel's cookie is no key.
		u := f.Client()
		u.Login("root", paneltest.AdminPW)
		if rec := u.Do("GET", "/api/v1/domains", nil); rec.Code != 401 {
			t.Errorf("cookie opened the API: %d", rec.Code)
		}
	})
}

// TestOpenAPIDocumentsRoutes checks the served description against a
// panel built without the outbound queue: each API route it has is
// documented. The full check, with every route present, is e2e's
// TestOpenAPI.
func TestOpenAPIDocumentsRoutes(t *testing.T) {
	f := paneltest.NewFx(t, tenantstest.Open(t, database.SQLite))
	documented, routes := paneltest.APIOperations(t, f)
	for k := range routes {
		if !documented[k] {
			t.Errorf("route not documented: %s", k)
		}
	}
	if len(routes) < 10 {
		t.Errorf("only %d API routes", len(routes))
	}
}
