package panel_test

import (
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAPIDKIM: a domain key makes, lists and rotates its domain's DKIM keys
// (the records to publish, never a private key) and sets the forwarders it
// trusts and its MTA-STS mode, and reaches no other domain's.
func TestAPIDKIM(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		for _, s := range []struct {
			method, path, key string
			status            int
			want              string
			body              string
		}{
			{"GET", "/api/v1/domains/a.test/dkim", f.AKey, 200, `{"keys":[]}`, ""},
			{"POST", "/api/v1/domains/a.test/dkim", f.BKey, 404, `"error"`, ""},
			{"POST", "/api/v1/domains/a.test/dkim", f.AKey, 201, `"algorithm":"ed25519","state":"active"`, ""},
			{"POST", "/api/v1/domains/a.test/dkim", f.AKey, 409, `"error"`, ""},
			{"GET", "/api/v1/domains/a.test/dkim", f.BKey, 404, `"error"`, ""},
			{"POST", "/api/v1/domains/a.test/dkim/rotate", f.BKey, 404, `"error"`, ""},
			{"POST", "/api/v1/domains/a.test/dkim/rotate", f.AKey, 201, `"state":"pending"`, ""},
			{"POST", "/api/v1/domains/a.test/dkim/rotate", f.AKey, 422, `waiting for its DNS records`, ""},
			{"GET", "/api/v1/domains/a.test/dkim", f.AdmKey, 200, `"name":"`, ""},
			{"GET", "/api/v1/domains/a.test/dmarc/forwarders", f.AKey, 200, `{"networks":[]}`, ""},
			{"PUT", "/api/v1/domains/a.test/dmarc/forwarders", f.AKey, 422, `too wide`, `{"networks":["10.0.0.0/8"]}`},
			{"PUT", "/api/v1/domains/a.test/dmarc/forwarders", f.AKey, 422, `"field":"networks"`, `{"networks":["192.0.2.1,10.0.0.0/8"]}`},
			{"PUT", "/api/v1/domains/a.test/dmarc/forwarders", f.BKey, 404, `"error"`, `{"networks":["192.0.2.1"]}`},
			{"PUT", "/api/v1/domains/a.test/dmarc/forwarders", f.AKey, 200, `{"networks":["192.0.2.1/32"]}`, `{"networks":["192.0.2.1"]}`},
			{"GET", "/api/v1/domains/a.test/dmarc/forwarders", f.BKey, 404, `"error"`, ""},
			{"GET", "/api/v1/domains/a.test/mta-sts", f.AKey, 200, `{"mode":"none"}`, ""},
			{"PUT", "/api/v1/domains/a.test/mta-sts", f.AKey, 422, `"field":"mode"`, `{"mode":"strict"}`},
			{"PUT", "/api/v1/domains/a.test/mta-sts", f.BKey, 404, `"error"`, `{"mode":"enforce"}`},
			{"PUT", "/api/v1/domains/a.test/mta-sts", f.AKey, 200, `{"mode":"testing"}`, `{"mode":"testing"}`},
			{"PUT", "/api/v1/domains/b.test/mta-sts", f.AdmKey, 200, `{"mode":"enforce"}`, `{"mode":"enforce"}`},
			{"GET", "/api/v1/domains/a.test/mta-sts", f.BKey, 404, `"error"`, ""},
		} {
			rec := c.API(s.method, s.path, s.key, s.body)
			body := rec.Body.String()
			if rec.Code != s.status || !strings.Contains(body, s.want) {
				t.Errorf("%s %s: %d %s, want %d with %s", s.method, s.path, rec.Code, paneltest.Snippet(body), s.status, s.want)
			}
			if strings.Contains(strings.ToLower(body), "private") || strings.Contains(body, "v1:") {
				t.Errorf("%s %s shows a private key: %s", s.method, s.path, paneltest.Snippet(body))
			}
		}
		rec := c.API("GET", "/api/v1/domains/a.test/dkim", f.AKey, "")
		if n := strings.Count(rec.Body.String(), `"selector"`); n != 4 {
			t.Errorf("%d keys listed after a rotation, want 4: %s", n, paneltest.Snippet(rec.Body.String()))
		}
	})
}
