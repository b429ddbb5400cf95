package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestServeClientSetup runs the binary and asks it as Thunderbird and
// Outlook do: the answers name the public host and ports, never the listen
// addresses; Outlook's POST needs no panel session; domains we do not serve
// get nothing.
func TestServeClientSetup(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			httpAddr := freeAddr(t)
			env := panelEnv(t, eng, httpAddr, "POSTDESK_HOSTNAME=mx1.internal.test", "POSTDESK_PUBLIC_HOST=mail.a.test",
				"POSTDESK_PUBLIC_PORTS=imaps=993,submission=587,submissions=465")
			for _, args := range [][]string{{"domain", "add", "a.test"}, {"domain", "add", "off.test"}, {"domain", "set", "off.test", "--active=false"},
				{"domain", "add", "alias.test"}, {"domain", "set", "alias.test", "--alias-of", "a.test"}} {
				runCLI(t, bin, env, args...)
			}
			base := "http://" + httpAddr
			logs := startServe(t, bin, env, base)
			do := func(method, host, path, ctype, body string) (int, string, string) {
				t.Helper()
				req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
				req.Host = host
				if ctype != "" {
					req.Header.Set("Content-Type", ctype)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
			}

			// Thunderbird, both places it asks.
			type server struct {
				Type       string `xml:"type,attr"`
				Hostname   string `xml:"hostname"`
				Port       int    `xml:"port"`
				SocketType string `xml:"socketType"`
				Username   string `xml:"username"`
			}
			var cfg struct {
				XMLName  xml.Name `xml:"clientConfig"`
				Provider struct {
					Domain   string   `xml:"domain"`
					Incoming []server `xml:"incomingServer"`
					Outgoing []server `xml:"outgoingServer"`
				} `xml:"emailProvider"`
			}
			for _, at := range []struct{ host, path string }{
				{"a.test", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40a.test"},
				{"autoconfig.a.test", "/mail/config-v1.1.xml?emailaddress=alice%40a.test"},
				{"autoconfig.alias.test", "/mail/config-v1.1.xml?emailaddress=alice%40alias.test"},
			} {
				st, ct, body := do("GET", at.host, at.path, "", "")
				if st != 200 || !strings.Contains(ct, "xml") {
					t.Fatalf("autoconfig %s%s: %d %s\n%s", at.host, at.path, st, ct, body)
				}
				cfg.Provider.Incoming, cfg.Provider.Outgoing = nil, nil
				if err := xml.Unmarshal([]byte(body), &cfg); err != nil {
					t.Fatalf("autoconfig: %v\n%s", err, body)
				}
				if len(cfg.Provider.Incoming) != 1 || len(cfg.Provider.Outgoing) != 2 {
					t.Fatalf("autoconfig servers:\n%s", body)
				}
				in, out := cfg.Provider.Incoming[0], cfg.Provider.Outgoing[0]
				if in != (server{"imap", "mail.a.test", 993, "SSL", "%EMAILADDRESS%"}) || out != (server{"smtp", "mail.a.test", 465, "SSL", "%EMAILADDRESS%"}) ||
					cfg.Provider.Outgoing[1].Port != 587 || cfg.Provider.Outgoing[1].SocketType != "STARTTLS" {
					t.Errorf("autoconfig: %+v", cfg.Provider)
				}
				if strings.Contains(body, "mx1.internal.test") || strings.Contains(body, "127.0.0.1") {
					t.Errorf("autoconfig names the listen host:\n%s", body)
				}
			}
			for _, q := range []string{"bob%40off.test", "bob%40elsewhere.test", "not-an-address", ""} {
				if st, _, body := do("GET", "autoconfig.a.test", "/mail/config-v1.1.xml?emailaddress="+q, "", ""); st != 404 {
					t.Errorf("autoconfig for %q: %d\n%s", q, st, body)
				}
			}

			// Outlook's POX form: a POST without any session or token.
			pox := `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
 <Request><EMailAddress>ADDR</EMailAddress>
 <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>
</Autodiscover>`
			var ad struct {
				Protocols []struct {
					Type, Server, LoginName, SSL string
					Port                         int
				} `xml:"Response>Account>Protocol"`
				Error string `xml:"Response>Error>ErrorCode"`
			}
			for _, path := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"} {
				st, ct, body := do("POST", "autodiscover.a.test", path, "text/xml", strings.Replace(pox, "ADDR", "alice@a.test", 1))
				if st != 200 || !strings.Contains(ct, "xml") {
					t.Fatalf("autodiscover %s: %d %s\n%s\nlog:\n%s", path, st, ct, body, logs.String())
				}
				ad.Protocols, ad.Error = nil, ""
				if err := xml.Unmarshal([]byte(body), &ad); err != nil {
					t.Fatalf("autodiscover: %v\n%s", err, body)
				}
				types := map[string]bool{}
				for _, p := range ad.Protocols {
					types[p.Type] = true
					if p.Server != "mail.a.test" || p.LoginName != "alice@a.test" || p.SSL != "on" || p.Port == 0 {
						t.Errorf("autodiscover protocol %+v", p)
					}
				}
				if !types["IMAP"] || !types["SMTP"] || ad.Error != "" {
					t.Errorf("autodiscover:\n%s", body)
				}
			}
			for _, body := range []string{strings.Replace(pox, "ADDR", "bob@off.test", 1), strings.Replace(pox, "ADDR", "x", 1), "<nope/>",
				strings.Replace(pox, "outlook/responseschema/2006a", "mobilesync/responseschema/2006", 1)} {
				ad.Protocols, ad.Error = nil, ""
				st, _, out := do("POST", "autodiscover.a.test", "/autodiscover/autodiscover.xml", "text/xml", body)
				if err := xml.Unmarshal([]byte(out), &ad); st != 200 || err != nil || ad.Error == "" || len(ad.Protocols) != 0 {
					t.Errorf("autodiscover of %.60q: %d, want an Error answer\n%s", body, st, out)
				}
			}
			if st, _, _ := do("POST", "autodiscover.a.test", "/autodiscover/autodiscover.xml", "text/xml", strings.Repeat("x", 64<<10)); st != 413 {
				t.Errorf("a 64 KiB request: %d, want 413", st)
			}

			// Outlook's JSON form points to the POX form.
			st, _, body := do("GET", "autodiscover.a.test", "/autodiscover/autodiscover.json/v1.0/alice@a.test?Protocol=AutodiscoverV1", "", "")
			var js map[string]string
			if st != 200 || json.Unmarshal([]byte(body), &js) != nil || js["Url"] != "https://autodiscover.a.test/autodiscover/autodiscover.xml" {
				t.Errorf("autodiscover.json: %d %s", st, body)
			}
			if st, _, body := do("GET", "autodiscover.a.test", "/autodiscover/autodiscover.json?Email=alice@a.test&Protocol=ActiveSync", "", ""); st != 400 {
				t.Errorf("autodiscover.json for ActiveSync: %d %s", st, body)
			}
			if st, _, body := do("GET", "autodiscover.a.test", "/autodiscover/autodiscover.json?Email=bob@off.test&Protocol=AutodiscoverV1", "", ""); st != 404 {
				t.Errorf("autodiscover.json for a disabled domain: %d %s", st, body)
			}
		})
	}
}
