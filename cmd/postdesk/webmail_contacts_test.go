package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// testContacts: webmail's Contacts page on f: the books, adding and
// deleting, the read-only directory and GAB, a new book shared by name
// and with the domain, search across books, completion, and nothing of
// another user's book or domain.
func testContacts(t *testing.T, f *wmFx) {
	ann := f.client()
	ann.login("ann@a.test")
	d, _ := ann.get("/webmail/contacts", http.StatusOK)
	var books []string
	d.Find(`[data-testid=book-link]`).Each(func(_ int, s *goquery.Selection) { books = append(books, s.Text()) })
	if strings.Join(books, "|") != "Contacts|Global address book|Directory" {
		t.Fatalf("books %q", books)
	}
	ann.post("/webmail/contacts/add", url.Values{"book": {"contacts"}, "name": {"Zoe Zed"}, "emails": {"zoe@example.org"}, "phones": {"+1 555 0100"}}, http.StatusSeeOther)
	rec := ann.post("/webmail/contacts/add", url.Values{"book": {"contacts"}, "name": {"Bad"}, "emails": {"not an address"}}, http.StatusUnprocessableEntity)
	if !strings.Contains(rec.Body.String(), "is not an address") {
		t.Errorf("invalid add: %s", wmSnippet(rec.Body.String()))
	}
	d, _ = ann.get("/webmail/contacts?book=contacts", http.StatusOK)
	if s := wmText(d, `[data-testid=contact-row]`); !strings.Contains(s, "Zoe Zed") || !strings.Contains(s, "+1 555 0100") {
		t.Fatalf("Contacts lists %q", s)
	}
	if href, _ := d.Find(`[data-testid=write-to]`).Attr("href"); !strings.HasPrefix(href, "/webmail/compose?to=") || !strings.Contains(href, "zoe%40example.org") {
		t.Errorf("write-to link %q", href)
	}
	// Completion draws from the own book too.
	if _, rec := ann.get("/webmail/directory?q=zoe", http.StatusOK); !strings.Contains(rec.Body.String(), "zoe@example.org") {
		t.Errorf("completion of zoe: %s", rec.Body.String())
	}
	d, _ = ann.get("/webmail/contacts?book=directory", http.StatusOK)
	if s := wmText(d, `[data-testid=contact-table]`); !strings.Contains(s, "carl@a.test") || strings.Contains(s, "b.test") {
		t.Errorf("directory lists %q", s)
	}
	if d.Find(`[data-testid=new-contact-form]`).Length() != 0 || d.Find(`[data-testid=delete-contact]`).Length() != 0 {
		t.Error("the directory offers changes")
	}
	ann.post("/webmail/contacts/add", url.Values{"book": {"gab"}, "name": {"Gina"}, "emails": {"gina@example.org"}}, http.StatusForbidden)
	ann.post("/webmail/contacts/add", url.Values{"book": {"directory"}, "name": {"X"}, "emails": {"x@example.org"}}, http.StatusForbidden)

	// A new book, shared with carl read-write, then with the domain.
	rec = ann.post("/webmail/contacts/books", url.Values{"name": {"Team"}}, http.StatusSeeOther)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	slug := loc.Query().Get("book")
	ann.post("/webmail/contacts/add", url.Values{"book": {slug}, "name": {"Tom Team"}, "emails": {"tom@example.org"}}, http.StatusSeeOther)
	// Copy and move between books; a directory entry copies, never moves.
	hrefOf := func(book, name string) string {
		d, _ := ann.get("/webmail/contacts?book="+url.QueryEscape(book), http.StatusOK)
		h := ""
		d.Find(`[data-testid=contact-row]`).Each(func(_ int, r *goquery.Selection) {
			if strings.Contains(r.Text(), name) {
				h, _ = r.Find(`input[name=href]`).Attr("value")
			}
		})
		if h == "" {
			t.Fatalf("%s is not in %s", name, book)
		}
		return h
	}
	tom := hrefOf(slug, "Tom Team")
	ann.post("/webmail/contacts/copy", url.Values{"book": {slug}, "href": {tom}, "to": {"contacts"}}, http.StatusSeeOther)
	rec = ann.post("/webmail/contacts/copy", url.Values{"book": {slug}, "href": {tom}, "to": {"contacts"}}, http.StatusUnprocessableEntity)
	if !strings.Contains(rec.Body.String(), "has this contact already") {
		t.Errorf("a second copy: %s", wmSnippet(rec.Body.String()))
	}
	carlEntry := hrefOf("directory", "carl@a.test")
	ann.post("/webmail/contacts/copy", url.Values{"book": {"directory"}, "href": {carlEntry}, "to": {slug}, "move": {"yes"}}, http.StatusForbidden)
	ann.post("/webmail/contacts/copy", url.Values{"book": {"directory"}, "href": {carlEntry}, "to": {slug}}, http.StatusSeeOther)
	ann.post("/webmail/contacts/copy", url.Values{"book": {"contacts"}, "href": {hrefOf("contacts", "Tom Team")}, "to": {"gab"}}, http.StatusForbidden)
	hrefOf(slug, "Carl Example")
	moved := hrefOf("contacts", "Tom Team")
	ann.post("/webmail/contacts/delete", url.Values{"book": {slug}, "href": {tom}}, http.StatusSeeOther)
	ann.post("/webmail/contacts/copy", url.Values{"book": {"contacts"}, "href": {moved}, "to": {slug}, "move": {"yes"}}, http.StatusSeeOther)
	hrefOf(slug, "Tom Team")
	d, _ = ann.get("/webmail/contacts?book=contacts", http.StatusOK)
	if strings.Contains(wmText(d, `[data-testid=contact-table]`), "Tom Team") {
		t.Error("the moved contact is still in Contacts")
	}

	carl := f.client()
	carl.login("carl@a.test")
	teamOf := func(c *wmClient) string {
		d, _ := c.get("/webmail/contacts", http.StatusOK)
		href := ""
		d.Find(`[data-testid=book-link]`).Each(func(_ int, s *goquery.Selection) {
			if s.Text() == "Team" {
				href, _ = s.Attr("href")
			}
		})
		return href
	}
	if teamOf(carl) != "" {
		t.Fatal("carl sees ann's private book")
	}
	carl.get("/webmail/contacts?book="+url.QueryEscape(slug), http.StatusNotFound)
	rec = ann.post("/webmail/contacts/share", url.Values{"book": {slug}, "address": {"bob@b.test"}}, http.StatusUnprocessableEntity)
	if !strings.Contains(rec.Body.String(), "hare only with users of a.test") {
		t.Errorf("a share across domains: %s", wmSnippet(rec.Body.String()))
	}
	ann.post("/webmail/contacts/share", url.Values{"book": {slug}, "address": {"carl@a.test"}, "write": {"yes"}}, http.StatusSeeOther)
	shared := teamOf(carl)
	if shared == "" {
		t.Fatal("carl does not see the shared book")
	}
	sl, _ := url.Parse(shared)
	carl.post("/webmail/contacts/add", url.Values{"book": {sl.Query().Get("book")}, "name": {"Cat Carl"}, "emails": {"cat@example.org"}}, http.StatusSeeOther)
	d, _ = ann.get("/webmail/contacts?book="+url.QueryEscape(slug), http.StatusOK)
	if s := wmText(d, `[data-testid=contact-table]`); !strings.Contains(s, "Cat Carl") {
		t.Errorf("carl's add is not in ann's book: %q", s)
	}
	if s := wmText(d, `[data-testid=share]`); !strings.Contains(s, "carl@a.test") {
		t.Errorf("shares %q", s)
	}
	ann.post("/webmail/contacts/unshare", url.Values{"book": {slug}, "address": {"carl@a.test"}}, http.StatusSeeOther)
	if teamOf(carl) != "" {
		t.Fatal("carl still sees the book after the share ended")
	}
	ann.post("/webmail/contacts/domain-read", url.Values{"book": {slug}, "on": {"yes"}}, http.StatusSeeOther)
	shared = teamOf(carl)
	if shared == "" {
		t.Fatal("carl does not see the domain-shared book")
	}
	sl, _ = url.Parse(shared)
	carl.post("/webmail/contacts/add", url.Values{"book": {sl.Query().Get("book")}, "name": {"No"}, "emails": {"no@example.org"}}, http.StatusForbidden)
	bob := f.client()
	bob.login("bob@b.test")
	if teamOf(bob) != "" {
		t.Fatal("bob of b.test sees a.test's domain-shared book")
	}

	// Export of a book the user reads, as vCards and CSV; not of another's.
	_, rec = ann.get("/webmail/contacts/export?format=vcf&book="+url.QueryEscape(slug), http.StatusOK)
	if strings.Count(rec.Body.String(), "BEGIN:VCARD") != 3 { // Tom, Carl (from the directory), Cat
		t.Errorf("vCard export: %s", wmSnippet(rec.Body.String()))
	}
	_, rec = ann.get("/webmail/contacts/export?format=csv&book=directory", http.StatusOK)
	if b := rec.Body.String(); !strings.HasPrefix(b, "Name,") || !strings.Contains(b, "carl@a.test") || strings.Contains(b, "b.test") {
		t.Errorf("CSV export: %s", wmSnippet(b))
	}
	bob.get("/webmail/contacts/export?format=vcf&book="+url.QueryEscape(slug), http.StatusNotFound)

	// "Add the sender to contacts" from a message.
	uid := f.deliver("ann@a.test", "", wmPlain)
	inbox := f.folder("ann@a.test", "INBOX")
	d, _ = ann.get(fmt.Sprintf("/webmail/f/%d/m/%d", inbox.ID, uid), http.StatusOK)
	form := url.Values{}
	d.Find(`[data-testid=add-sender-form] input`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		v, _ := s.Attr("value")
		form.Set(n, v)
	})
	if form.Get("emails") == "" {
		t.Fatal("no add-sender form on the message page")
	}
	ann.post("/webmail/contacts/add", form, http.StatusSeeOther)
	d, _ = ann.get("/webmail/contacts?book=contacts", http.StatusOK)
	if s := wmText(d, `[data-testid=contact-table]`); !strings.Contains(s, form.Get("emails")) {
		t.Errorf("the sender %s is not in Contacts: %q", form.Get("emails"), s)
	}

	// Search across every book; delete.
	d, _ = ann.get("/webmail/contacts?q=example.org", http.StatusOK)
	if s := wmText(d, `[data-testid=contact-table]`); !strings.Contains(s, "Zoe Zed") || !strings.Contains(s, "Tom Team") {
		t.Errorf("search across books %q", s)
	}
	d, _ = ann.get("/webmail/contacts?book=contacts", http.StatusOK)
	href := ""
	d.Find(`[data-testid=contact-row]`).Each(func(_ int, r *goquery.Selection) {
		if strings.Contains(r.Text(), "Zoe Zed") {
			href, _ = r.Find(`input[name=href]`).Attr("value")
		}
	})
	ann.post("/webmail/contacts/delete", url.Values{"book": {"contacts"}, "href": {href}}, http.StatusSeeOther)
	carl.post("/webmail/contacts/delete", url.Values{"book": {"contacts"}, "href": {href}}, http.StatusNotFound)
	d, _ = ann.get("/webmail/contacts?book=contacts", http.StatusOK)
	if strings.Contains(wmText(d, `[data-testid=contact-table]`), "Zoe Zed") {
		t.Error("the deleted contact is still listed")
	}
	ann.post("/webmail/contacts/domain-read", url.Values{"book": {slug}, "on": {"no"}}, http.StatusSeeOther)
	if teamOf(carl) != "" {
		t.Fatal("carl still sees the book")
	}
}
