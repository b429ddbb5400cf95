package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestServeDeliveryPages runs the binary and checks that serve hands the
// panel its outbound queue: an administrator saves the Delivery Options
// with a smart host password (sealed with the data folder's queue.key,
// never shown again) and sees the queue page.
func TestServeDeliveryPages(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			const adminPW, smartPW = "Adm1n-pass-word!", "Smart-Host-Secret#77"
			data := t.TempDir()
			httpAddr := freeAddr(t)
			env := panelEnv(t, eng, httpAddr, "POSTDESK_DATA="+data, "POSTDESK_ADMIN_PASSWORD="+adminPW)
			base := "http://" + httpAddr
			logs := startServe(t, bin, env, base)

			jar, _ := cookiejar.New(nil)
			hc := &http.Client{Jar: jar}
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
			get := func(path string) string {
				t.Helper()
				resp, err := hc.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d\n%s\nlog:\n%s", path, resp.StatusCode, b, logs.String())
				}
				return string(b)
			}
			post := func(path, page string, form url.Values) string {
				t.Helper()
				m := csrf.FindStringSubmatch(page)
				if m == nil {
					t.Fatalf("no CSRF token before POST %s", path)
				}
				form.Set("csrf", m[1])
				resp, err := hc.PostForm(base+path, form)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("POST %s: %d\n%s\nlog:\n%s", path, resp.StatusCode, b, logs.String())
				}
				return string(b)
			}
			post("/login", get("/login"), url.Values{"login": {"admin"}, "password": {adminPW}})
			page := get("/admin/delivery")
			page = post("/admin/delivery", page, url.Values{
				"max_connections": {"7"}, "smart_host": {"smtp.relay.test"}, "smart_host_port": {"587"},
				"smart_host_username": {"relay"}, "smart_host_password": {smartPW},
				"lifetime": {"2d"}, "retry_intervals": {"5m 1h"}, "report_interval": {"24h"},
			})
			if !strings.Contains(page, "Delivery Options saved.") || !strings.Contains(page, "A password is stored") {
				t.Fatalf("after saving:\n%s", page)
			}
			if strings.Contains(page, smartPW) {
				t.Fatal("the page shows the smart host password")
			}
			if _, err := os.Stat(filepath.Join(data, "queue.key")); err != nil {
				t.Errorf("no key file sealing the password: %v", err)
			}
			if q := get("/admin/queue"); !strings.Contains(q, "Nothing is waiting to be sent.") {
				t.Errorf("queue page:\n%s", q)
			}
			if a := get("/admin/audit"); !strings.Contains(a, "delivery.options") || strings.Contains(a, smartPW) {
				t.Errorf("audit log:\n%s", a)
			}
			if strings.Contains(logs.String(), smartPW) {
				t.Error("the smart host password reached the log")
			}
			// serve hands the panel the system mailbox too.
			if sm := get("/admin/system-mail"); !strings.Contains(sm, `data-testid="system-mail"`) {
				t.Errorf("system mail page without the system mailbox:\n%s", sm)
			}
		})
	}
}
