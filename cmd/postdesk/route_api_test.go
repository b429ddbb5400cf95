package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestCLIRoute: the routing table and the Delivery Options on the command
// line, with the queue's validation and the password never shown.
func TestCLIRoute(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			e := newCLIEnv(t, eng)
			e.ok("route", "add", "ext.test", "127.0.0.1:2525")
			e.ok("route", "add", "Gone.Test", "[::1]:9", "--tls")
			if _, err := e.run("Route-Secret#1\n", "route", "add", "auth.test", "relay.example.net", "--user", "bob", "--password-stdin"); err != nil {
				t.Fatalf("route add with a password: %v", describe(err))
			}
			e.fails("--password-stdin needs --user", "route", "add", "x.test", "relay.example.net", "--password-stdin")
			e.fails("domain", "route", "add", "not a domain", "127.0.0.1")
			e.fails("port", "route", "add", "y.test", "127.0.0.1:smtp")
			e.fails("port", "route", "add", "y.test", "127.0.0.1:70000")
			out := e.ok("route", "list")
			for _, want := range []string{"ext.test", "127.0.0.1:2525", "gone.test", "[::1]:9", "auth.test", "bob (password stored)"} {
				if !strings.Contains(out, want) {
					t.Errorf("route list lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "Route-Secret") {
				t.Error("route list shows the password")
			}
			e.ok("route", "rm", "gone.test")
			e.fails("not found", "route", "rm", "gone.test")
			if out := e.ok("route", "list"); strings.Contains(out, "gone.test") || !strings.Contains(out, "ext.test") {
				t.Errorf("after rm:\n%s", out)
			}

			out = e.ok("delivery", "set", "--max-connections", "7", "--retry-intervals", "5m,1h", "--lifetime", "2d", "--smart-host", "smart.example.net:587")
			for _, want := range []string{"max-connections   7", "retry-intervals   5m,1h", "lifetime          2d", "smart-host        smart.example.net:587"} {
				if !strings.Contains(out, want) {
					t.Errorf("delivery set lacks %q:\n%s", want, out)
				}
			}
			e.fails("between 1 and 99", "delivery", "set", "--max-connections", "100")
			e.fails("--lifetime: use a duration", "delivery", "set", "--lifetime", "5 days")
			e.fails("give at least one setting", "delivery", "set")
			// Only the flags given change: the retry intervals stay.
			out = e.ok("delivery", "set", "--smart-host", "")
			if !strings.Contains(out, "smart-host        -") || !strings.Contains(out, "retry-intervals   5m,1h") || !strings.Contains(out, "max-connections   7") {
				t.Errorf("delivery set --smart-host '':\n%s", out)
			}
			if out := e.ok("delivery", "show"); !strings.Contains(out, "lifetime          2d") {
				t.Errorf("delivery show:\n%s", out)
			}
		})
	}
}

// TestServeRouteAPI: the routing table and the Delivery Options under the
// API, for administrator keys only.
func TestServeRouteAPI(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			httpAddr := freeAddr(t)
			env := panelEnv(t, eng, httpAddr)
			cli := func(args ...string) string { t.Helper(); return runCLI(t, bin, env, args...) }
			cli("domain", "add", "a.test")
			// The key is the last line; it is shown only once.
			key := func(out string) string {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				return lines[len(lines)-1]
			}
			adminKey := key(cli("apikey", "create", "--admin"))
			domainKey := key(cli("apikey", "create", "--domain", "a.test"))
			base := "http://" + httpAddr
			logs := startServe(t, bin, env, base)
			call := func(key, method, path, body string, wantStatus int) map[string]any {
				t.Helper()
				req, _ := http.NewRequest(method, base+"/api/v1"+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != wantStatus {
					t.Fatalf("%s %s: %d, want %d\n%s\nlog:\n%s", method, path, resp.StatusCode, wantStatus, b, logs.String())
				}
				var v map[string]any
				if len(b) > 0 && b[0] == '{' {
					json.Unmarshal(b, &v)
				}
				return v
			}
			r := call(adminKey, "PUT", "/routes/Ext.Test", `{"host":"127.0.0.1","port":2525,"username":"u","password":"Api-Secret#2"}`, 200)
			if r["domain"] != "ext.test" || r["host"] != "127.0.0.1" || r["has_password"] != true || r["password"] != nil {
				t.Errorf("PUT route: %v", r)
			}
			call(adminKey, "PUT", "/routes/ext2.test", `{"host":""}`, 422)
			call(adminKey, "PUT", "/routes/ext2.test", `{"host":"h.test","port":0,"tls":"yes"}`, 400)
			call(domainKey, "PUT", "/routes/ext2.test", `{"host":"h.test"}`, 403)
			call(domainKey, "GET", "/routes", "", 403)
			call(domainKey, "GET", "/delivery", "", 403)
			d := call(adminKey, "PATCH", "/delivery", `{"max_connections":9,"retry_intervals":["5m","2h"],"lifetime":"3d"}`, 200)
			if d["max_connections"] != float64(9) || d["lifetime"] != "3d" {
				t.Errorf("PATCH delivery: %v", d)
			}
			if e := call(adminKey, "PATCH", "/delivery", `{"lifetime":"3 days"}`, 422); e["field"] != "lifetime" {
				t.Errorf("bad lifetime: %v", e)
			}
			if e := call(adminKey, "PATCH", "/delivery", `{"max_connections":0}`, 422); e["field"] != "max_connections" {
				t.Errorf("bad max_connections: %v", e)
			}
			call(domainKey, "PATCH", "/delivery", `{"max_connections":5}`, 403)
			if out := cli("route", "list"); !strings.Contains(out, "ext.test") || strings.Contains(out, "Api-Secret") {
				t.Errorf("route list after PUT:\n%s", out)
			}
			if out := cli("delivery", "show"); !strings.Contains(out, "max-connections   9") || !strings.Contains(out, "5m,2h") {
				t.Errorf("delivery show after PATCH:\n%s", out)
			}
			call(adminKey, "DELETE", "/routes/ext.test", "", 204)
			call(adminKey, "DELETE", "/routes/ext.test", "", 404)
			if strings.Contains(logs.String(), "Api-Secret") {
				t.Error("the route password reached the log")
			}
		})
	}
}
