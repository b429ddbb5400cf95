package panel_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestAPI(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		c := f.client()
		type step struct {
			method, path, key, body string
			status                  int
			want                    string // substring of the answer
		}
		adm, a := f.admKey, f.aKey
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
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"huge","password":"` + pw + `","quota_bytes":1125899906842624}`, 422, `"field":"quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":1125899906842624}`, 422, `"field":"quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":10485761}`, 422, `at most 10M per mailbox`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":10485760}`, 200, `"quota_bytes":10485760`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"max_mailbox_quota_bytes":1048576}`, 422, `"field":"max_mailbox_quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"storage_total_bytes":-1}`, 422, `"field":"storage_total_bytes"`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"max_mailbox_quota_bytes":2147483648,"storage_total_bytes":3221225472}`, 200, `"storage_total_bytes":3221225472`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":2147483649}`, 422, `"field":"quota_bytes"`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", a, `{"quota_bytes":2147483648}`, 200, `"quota_bytes":2147483648`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"huge","password":"` + pw + `","quota_bytes":2147483648}`, 422, `storage total is 3G`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", adm, `{"quota_bytes":1125899906842624}`, 200, `"quota_bytes":1125899906842624`},
			{"PATCH", "/api/v1/domains/a.test/mailboxes/ann", adm, `{"quota_bytes":0}`, 200, `"quota_bytes":0`},
			{"PATCH", "/api/v1/domains/a.test", adm, `{"default_quota_bytes":0,"max_mailbox_quota_bytes":0,"storage_total_bytes":0}`, 200, `"storage_total_bytes":0`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"password"}`, 422, `"field":"password"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"` + pw + `","full_name":"Eve\r\nBcc: x@y"}`, 422, `"field":"full_name"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"password":"` + pw + `"}`, 422, `"field":"local_part"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"` + pw + `","full_name":"Eve","quota_bytes":1073741824,"store_mail":true}`, 201, `"address":"eve@a.test"`},
			{"POST", "/api/v1/domains/a.test/mailboxes", a, `{"local_part":"eve","password":"` + pw + `"}`, 409, `already taken by a mailbox`},
			{"GET", "/api/v1/domains/a.test/mailboxes/eve", a, "", 200, `"quota_bytes":1073741824`},
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
			rec := c.api(s.method, s.path, s.key, s.body)
			if rec.Code != s.status || !strings.Contains(rec.Body.String(), s.want) {
				t.Errorf("%s %s: %d %s\nwant %d with %s", s.method, s.path, rec.Code, snippet(rec.Body.String()), s.status, s.want)
			}
			if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: error as %s", s.method, s.path, rec.Header().Get("Content-Type"))
			}
		}
		// The panel's cookie is no key.
		u := f.client()
		u.login("root", adminPW)
		if rec := u.do("GET", "/api/v1/domains", nil); rec.Code != 401 {
			t.Errorf("cookie opened the API: %d", rec.Code)
		}
	})
}

// TestOpenAPI checks the served description against the route table: each
// documented operation is a route, each API route is documented.
func TestOpenAPI(t *testing.T) {
	f := newQueueFx(t, tenantstest.Open(t, database.SQLite)).fx // with the queue: every route
	rec := f.client().do("GET", "/api/v1/openapi.json", nil)
	if rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.OpenAPI == "" {
		t.Fatalf("openapi.json: %v", err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			path := "/api/v1" + strings.NewReplacer("{domain}", ":domain", "{local_part}", ":local").Replace(p)
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	routes := map[string]bool{}
	for _, r := range f.e.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && isMethod(r.Method) && r.Path != "/api/v1/openapi.json" {
			routes[r.Method+" "+r.Path] = true
		}
	}
	for k := range documented {
		if !routes[k] {
			t.Errorf("documented but no route: %s", k)
		}
	}
	for k := range routes {
		if !documented[k] {
			t.Errorf("route not documented: %s", k)
		}
	}
	if len(routes) < 15 {
		t.Errorf("only %d API routes", len(routes))
	}
}
