package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestCLIContacts: the directory switches of mailboxes and aliases, and
// the global address book's import (all or nothing, duplicates skipped),
// list, export and rm.
func TestCLIContacts(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			e := newCLIEnv(t, eng)
			e.ok("domain", "add", "a.test")
			e.ok("domain", "add", "b.test")
			e.ok("mailbox", "add", "alice@a.test", "--password", pw, "--name", "Alice Able")
			e.ok("mailbox", "add", "carol@a.test", "--password", pw, "--name", "Carol Hidden")
			e.ok("mailbox", "add", "dave@b.test", "--password", pw)
			e.ok("alias", "add", "sales@a.test", "alice@a.test")
			e.ok("alias", "add", "quiet@a.test", "alice@a.test")
			e.ok("mailbox", "set", "carol@a.test", "--directory=false")
			e.ok("alias", "set", "quiet@a.test", "--directory=false")
			e.fails("not found", "alias", "set", "nobody@a.test", "--directory=false")
			out := e.ok("contact", "list", "a.test", "--directory")
			if !strings.Contains(out, "Alice Able") || !strings.Contains(out, "sales@a.test") ||
				strings.Contains(out, "carol") || strings.Contains(out, "quiet") || strings.Contains(out, "dave") {
				t.Fatalf("directory of a.test:\n%s", out)
			}

			dir := t.TempDir()
			good := filepath.Join(dir, "good.vcf")
			os.WriteFile(good, []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:gina\r\nFN:Gina Global\r\nN:Global;Gina;;;\r\nEMAIL:gina@partner.example\r\nORG:Partner Ltd\r\nEND:VCARD\r\n"+
				"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Hal Noid\r\nN:Noid;Hal;;;\r\nEMAIL;TYPE=INTERNET:hal@partner.example\r\nEND:VCARD\r\n"), 0o600)
			if out := e.ok("contact", "import", "a.test", good); !strings.Contains(out, "2 contacts imported") {
				t.Fatalf("import:\n%s", out)
			}
			if out := e.ok("contact", "import", "a.test", good); !strings.Contains(out, "0 contacts imported") || !strings.Contains(out, "skipped") {
				t.Fatalf("second import:\n%s", out)
			}
			bad := filepath.Join(dir, "bad.vcf")
			os.WriteFile(bad, []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:ivy\r\nFN:Ivy New\r\nEMAIL:ivy@partner.example\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Broken\r\n"), 0o600)
			e.fails("nothing was imported", "contact", "import", "a.test", bad)
			out = e.ok("contact", "list", "a.test")
			if !strings.Contains(out, "gina@partner.example") || !strings.Contains(out, "hal@partner.example") || strings.Contains(out, "ivy") {
				t.Fatalf("GAB after the imports:\n%s", out)
			}
			if out := e.ok("contact", "list", "b.test"); strings.Contains(out, "partner") {
				t.Fatalf("b.test's GAB:\n%s", out)
			}
			if out := e.ok("contact", "export", "a.test"); strings.Count(out, "BEGIN:VCARD") != 2 {
				t.Fatalf("export:\n%s", out)
			}
			csvFile := filepath.Join(dir, "outlook.csv")
			os.WriteFile(csvFile, []byte("First Name,Last Name,E-mail Address,Pager\r\nOlga,Outlook,olga@acme.example,1\r\n"), 0o600)
			if out := e.ok("contact", "import", "a.test", csvFile); !strings.Contains(out, "1 contacts imported") || !strings.Contains(out, "columns not imported: Pager") {
				t.Fatalf("CSV import:\n%s", out)
			}
			if out := e.ok("contact", "export", "a.test", "--csv"); !strings.Contains(out, "Olga Outlook,Olga,Outlook,olga@acme.example") {
				t.Fatalf("CSV export:\n%s", out)
			}
			e.ok("contact", "rm", "a.test", "gina")
			e.fails("not found", "contact", "rm", "a.test", "gina")
			if out := e.ok("contact", "list", "a.test", "--search", "partner"); strings.Contains(out, "gina") || !strings.Contains(out, "hal@") {
				t.Fatalf("after rm:\n%s", out)
			}
		})
	}
}
