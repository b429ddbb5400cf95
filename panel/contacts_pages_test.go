package panel_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestPostmasterContacts: a.test's postmaster manages its GAB (add,
// search, delete, import all or nothing, export) and the directory and
// GAB-editing switches; another domain's page is 404.
func TestPostmasterContacts(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		d := c.Get("/d/a.test/contacts", http.StatusOK)
		if d.Find(`[data-testid=directory-row]`).Length() != 3 {
			t.Fatalf("directory rows %d", d.Find(`[data-testid=directory-row]`).Length())
		}
		c.Get("/d/b.test/contacts", http.StatusNotFound)
		c.Get("/d/b.test/contacts.vcf", http.StatusNotFound)

		c.Post("/d/a.test/contacts", url.Values{"name": {"Gina Global"}, "emails": {"gina@partner.test"}, "org": {"Partner"}}, http.StatusSeeOther)
		rec := c.Post("/d/a.test/contacts", url.Values{"name": {"Bad"}, "emails": {"nope"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "is not an address") {
			t.Errorf("bad add: %s", paneltest.Snippet(rec.Body.String()))
		}
		c.Post("/d/b.test/contacts", url.Values{"name": {"Evil"}, "emails": {"x@evil.test"}}, http.StatusNotFound)
		good := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:hal\r\nFN:Hal Import\r\nEMAIL:hal@partner.test\r\nEND:VCARD\r\n"
		c.Get("/d/a.test/contacts", http.StatusOK)
		c.PostUpload("/d/a.test/contacts/import", url.Values{"csrf": {c.CSRF}}, good, http.StatusSeeOther)
		c.Get("/d/a.test/contacts", http.StatusOK)
		rec = c.PostUpload("/d/a.test/contacts/import", url.Values{"csrf": {c.CSRF}}, good+"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Broken", http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "nothing was imported") {
			t.Errorf("bad import: %s", paneltest.Snippet(rec.Body.String()))
		}
		d = c.Get("/d/a.test/contacts?q=partner", http.StatusOK)
		if s := d.Find(`[data-testid=gab-table]`).Text(); !strings.Contains(s, "Gina Global") || !strings.Contains(s, "Hal Import") {
			t.Fatalf("GAB %q", s)
		}
		rec = c.Do("GET", "/d/a.test/contacts.vcf", nil)
		if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), "BEGIN:VCARD") != 2 {
			t.Fatalf("export %d %q", rec.Code, paneltest.Snippet(rec.Body.String()))
		}
		rec = c.Do("GET", "/d/a.test/contacts.csv", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "hal@partner.test") {
			t.Fatalf("CSV export %d %q", rec.Code, paneltest.Snippet(rec.Body.String()))
		}
		c.Get("/d/b.test/contacts.csv", http.StatusNotFound)
		c.Get("/d/a.test/contacts", http.StatusOK)
		c.PostUpload("/d/a.test/contacts/import", url.Values{"csrf": {c.CSRF}}, "Name,E-mail Address\nCsv Person,csv@partner.test\n", http.StatusSeeOther)
		c.Post("/d/a.test/contacts/delete", url.Values{"uid": {"hal"}}, http.StatusSeeOther)
		c.Post("/d/a.test/contacts/delete", url.Values{"uid": {"hal"}}, http.StatusNotFound)

		// Switches: hide ann, let carl edit the GAB.
		c.Post("/d/a.test/contacts/switches", url.Values{"action": {"hide"}, "mailbox": {"ann"}}, http.StatusSeeOther)
		c.Post("/d/a.test/contacts/switches", url.Values{"action": {"grant"}, "mailbox": {"carl"}}, http.StatusSeeOther)
		c.Post("/d/a.test/contacts/switches", url.Values{"action": {"hide"}, "mailbox": {"bob"}}, http.StatusNotFound)
		ann, err := f.S.Mailbox(t.Context(), f.Sys, paneltest.Addr("ann@a.test"))
		paneltest.Must(t, err)
		carl, err := f.S.Mailbox(t.Context(), f.Sys, paneltest.Addr("carl@a.test"))
		paneltest.Must(t, err)
		if ann.InDirectory || !carl.MayEditGAB {
			t.Fatalf("switches: ann in directory %t, carl may edit %t", ann.InDirectory, carl.MayEditGAB)
		}
		bob, err := f.S.Mailbox(t.Context(), f.Sys, paneltest.Addr("bob@b.test"))
		paneltest.Must(t, err)
		if !bob.InDirectory {
			t.Fatal("a.test's postmaster hid bob of b.test")
		}
		l, err := f.S.ResolveLogin(t.Context(), tenants.MailboxLogin, "carl@a.test", paneltest.PW, "")
		paneltest.Must(t, err)
		ps, err := f.S.DirectoryPeople(t.Context(), l)
		paneltest.Must(t, err)
		for _, p := range ps {
			if p.Address == "ann@a.test" {
				t.Fatal("ann is still in the directory")
			}
		}
		// The administrator's domain list counts the contacts.
		adm := f.Client()
		adm.Login("root", paneltest.AdminPW)
		d = adm.Get("/admin", http.StatusOK)
		counts := map[string]string{}
		d.Find(`[data-testid=domain-row]`).Each(func(_ int, r *goquery.Selection) {
			counts[strings.TrimSpace(r.Find(`[data-testid=domain-name]`).Text())] = r.Find(`[data-testid=contacts]`).Text()
		})
		if counts["a.test"] != "2 shared, 0 personal" || counts["b.test"] != "0 shared, 0 personal" {
			t.Errorf("contact counts %v", counts)
		}
		if _, err := f.S.ContactCounts(t.Context(), tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm@a.test", DomainID: ann.DomainID}, []int64{ann.DomainID}); err == nil {
			t.Error("a postmaster counts contacts of domains")
		}
		// A user has no such page.
		u := f.Client()
		u.Login("ann@a.test", paneltest.PW)
		if rec := u.Do("GET", "/d/a.test/contacts", nil); rec.Code < 300 {
			t.Fatalf("a user reaches the postmaster's contacts page: %d", rec.Code)
		}
	})
}
