package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestCLIDKIM: dkim add prints the first pair's zone-file records (the
// RSA one in strings of at most 255 octets), refuses a second add, rotate
// makes a pending pair that records marks; the private keys are sealed
// with dkim.key in the data folder, which no other command needs.
func TestCLIDKIM(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			e := newCLIEnv(t, eng)
			e.ok("domain", "add", "a.test")
			e.fails("not found", "dkim", "add", "nowhere.test")
			e.fails("has no DKIM keys", "dkim", "records", "a.test")
			out := e.ok("dkim", "add", "a.test")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !strings.Contains(lines[1], "._domainkey.a.test. IN TXT \"v=DKIM1; k=ed25519; p=") ||
				!strings.Contains(lines[2], "._domainkey.a.test. IN TXT \"v=DKIM1; k=rsa; p=") {
				t.Fatalf("dkim add printed:\n%s", out)
			}
			for _, q := range strings.Split(lines[2], `"`)[1:] {
				if len(q) > 255 {
					t.Errorf("a %d-octet string in %s", len(q), lines[2])
				}
			}
			e.fails("rotate them instead", "dkim", "add", "a.test")
			e.ok("dkim", "rotate", "a.test")
			e.fails("already waiting", "dkim", "rotate", "a.test")
			recs := e.ok("dkim", "records", "a.test")
			if strings.Count(recs, "IN TXT") != 4 || strings.Count(recs, "; new: signs once published") != 2 {
				t.Errorf("dkim records after a rotation:\n%s", recs)
			}
			list := e.ok("dkim", "list", "a.test")
			if strings.Count(list, "active") != 2 || strings.Count(list, "pending") != 2 {
				t.Errorf("dkim list:\n%s", list)
			}
			data := e.flag[len(e.flag)-1]
			if fi, err := os.Stat(filepath.Join(data, "dkim.key")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("dkim.key: %v %v", fi, err)
			}
		})
	}
}

// TestCLIDMARCForwarders: dmarc forwarders sets, shows and clears a
// domain's trusted forwarders, refusing a network that is too wide.
func TestCLIDMARCForwarders(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			e := newCLIEnv(t, eng)
			e.ok("domain", "add", "a.test")
			e.fails("too wide", "dmarc", "forwarders", "a.test", "10.0.0.0/8")
			if out := e.ok("dmarc", "forwarders", "a.test", "192.0.2.1,2001:db8::/48"); !strings.Contains(out, "192.0.2.1/32, 2001:db8::/48") {
				t.Errorf("set: %s", out)
			}
			if out := e.ok("dmarc", "forwarders", "a.test"); !strings.Contains(out, "192.0.2.1/32") {
				t.Errorf("show: %s", out)
			}
			if out := e.ok("dmarc", "forwarders", "a.test", "-"); !strings.Contains(out, "trusts no forwarders") {
				t.Errorf("clear: %s", out)
			}
		})
	}
}
