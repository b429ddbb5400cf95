package panel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func davCard(uid, fn, email string) vcard.Card {
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, "3.0")
	c.SetValue(vcard.FieldUID, uid)
	c.SetValue(vcard.FieldFormattedName, fn)
	c.SetName(&vcard.Name{FamilyName: fn})
	c.SetValue(vcard.FieldEmail, email)
	return c
}

type davUser struct {
	t    *testing.T
	base string
	name string
	cl   *carddav.Client
	http webdav.HTTPClient
}

func newDavUser(t *testing.T, base, name, pw string) *davUser {
	hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, name, pw)
	cl, err := carddav.NewClient(hc, base)
	paneltest.Must(t, err)
	return &davUser{t: t, base: base, name: name, cl: cl, http: hc}
}

func (u *davUser) do(method, path, body string, hdr map[string]string) *http.Response {
	u.t.Helper()
	req, err := http.NewRequest(method, u.base+path, strings.NewReader(body))
	paneltest.Must(u.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := u.http.Do(req)
	paneltest.Must(u.t, err)
	res.Body.Close()
	return res
}

// TestCardDAV: discovery, own, GAB and directory books, writes with their
// rights and preconditions, sync-collection, with go-webdav's client over
// loopback; no panel session or CSRF token is involved.
func TestCardDAV(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		srv := httptest.NewServer(f.E)
		defer srv.Close()
		ctx := context.Background()
		ann := newDavUser(t, srv.URL, "ann@a.test", paneltest.PW)

		// RFC 6764: the well-known URI redirects, keeping the method.
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := noFollow.Get(srv.URL + "/.well-known/carddav")
		paneltest.Must(t, err)
		res.Body.Close()
		if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != "/dav/" {
			t.Fatalf("well-known: %d %q", res.StatusCode, res.Header.Get("Location"))
		}

		principal, err := ann.cl.FindCurrentUserPrincipal(ctx)
		paneltest.Must(t, err)
		if principal != "/dav/ann@a.test/" {
			t.Fatalf("principal %q", principal)
		}
		home, err := ann.cl.FindAddressBookHomeSet(ctx, principal)
		paneltest.Must(t, err)
		books, err := ann.cl.FindAddressBooks(ctx, home)
		paneltest.Must(t, err)
		var paths []string
		for _, b := range books {
			paths = append(paths, b.Path)
		}
		if want := []string{home + "contacts/", home + "gab/", home + "directory/"}; !slices.Equal(paths, want) {
			t.Fatalf("books %v, want %v", paths, want)
		}

		// The directory holds the domain's mailboxes, read-only.
		dir, err := ann.cl.QueryAddressBook(ctx, home+"directory/", &carddav.AddressBookQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}})
		paneltest.Must(t, err)
		var dm []string
		for _, o := range dir {
			dm = append(dm, o.Card.Value(vcard.FieldEmail))
		}
		slices.Sort(dm)
		if want := []string{"ann@a.test", "carl@a.test", "pm@a.test"}; !slices.Equal(dm, want) {
			t.Fatalf("directory %v, want %v", dm, want)
		}
		if _, err := ann.cl.PutAddressObject(ctx, home+"directory/x.vcf", davCard("x", "X", "x@a.test")); err == nil {
			t.Fatal("a PUT into the directory was taken")
		}

		// Own book: create, read, edit with If-Match, sync.
		obj, err := ann.cl.PutAddressObject(ctx, home+"contacts/zed.vcf", davCard("zed", "Zed", "zed@partner.example"))
		paneltest.Must(t, err)
		got, err := ann.cl.GetAddressObject(ctx, home+"contacts/zed.vcf")
		paneltest.Must(t, err)
		if got.Card.Value(vcard.FieldEmail) != "zed@partner.example" || got.ETag == "" {
			t.Fatalf("GET: %+v", got)
		}
		first, err := ann.cl.SyncCollection(ctx, home+"contacts/", &carddav.SyncQuery{})
		paneltest.Must(t, err)
		if len(first.Updated) != 1 || first.SyncToken == "" {
			t.Fatalf("initial sync %+v", first)
		}
		card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:zed\r\nFN:Zed Two\r\nN:Two;Zed;;;\r\nEND:VCARD\r\n"
		if r := ann.do("PUT", home+"contacts/zed.vcf", card, map[string]string{"Content-Type": "text/vcard", "If-Match": `"stale"`}); r.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("stale If-Match: %d", r.StatusCode)
		}
		if r := ann.do("PUT", home+"contacts/zed.vcf", card, map[string]string{"Content-Type": "text/vcard", "If-Match": `"` + obj.ETag + `"`}); r.StatusCode/100 != 2 {
			t.Fatalf("current If-Match: %d", r.StatusCode)
		}
		next, err := ann.cl.SyncCollection(ctx, home+"contacts/", &carddav.SyncQuery{SyncToken: first.SyncToken})
		paneltest.Must(t, err)
		if len(next.Updated) != 1 || next.SyncToken == first.SyncToken {
			t.Fatalf("sync after the edit %+v", next)
		}
		if r := ann.do("DELETE", home+"contacts/zed.vcf", "", nil); r.StatusCode/100 != 2 {
			t.Fatalf("DELETE: %d", r.StatusCode)
		}
		last, err := ann.cl.SyncCollection(ctx, home+"contacts/", &carddav.SyncQuery{SyncToken: next.SyncToken})
		paneltest.Must(t, err)
		if len(last.Deleted) != 1 || !strings.HasSuffix(last.Deleted[0], "/zed.vcf") {
			t.Fatalf("sync after the deletion %+v", last)
		}

		// The GAB: the postmaster writes, ann reads and may not write.
		pm := newDavUser(t, srv.URL, "pm/a.test", paneltest.PW)
		if _, err := pm.cl.PutAddressObject(ctx, "/dav/pm@a.test/books/gab/gina.vcf", davCard("gina", "Gina", "gina@partner.example")); err != nil {
			t.Fatalf("pm writes the GAB: %v", err)
		}
		if _, err := ann.cl.GetAddressObject(ctx, home+"gab/gina.vcf"); err != nil {
			t.Fatalf("ann reads the GAB: %v", err)
		}
		if r := ann.do("DELETE", home+"gab/gina.vcf", "", nil); r.StatusCode != http.StatusForbidden {
			t.Fatalf("ann deletes from the GAB: %d", r.StatusCode)
		}

		// Others: 404 on ann's URLs, whoever they are; 401 without the password.
		if _, err := ann.cl.PutAddressObject(ctx, home+"contacts/keep.vcf", davCard("keep", "Keep", "keep@partner.example")); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"carl@a.test", "bob@b.test"} {
			o := newDavUser(t, srv.URL, who, paneltest.PW)
			for _, m := range []string{"GET", "PUT", "DELETE"} {
				if r := o.do(m, home+"contacts/keep.vcf", card, map[string]string{"Content-Type": "text/vcard"}); r.StatusCode != http.StatusNotFound {
					t.Errorf("%s's %s of ann's contact: %d", who, m, r.StatusCode)
				}
			}
			if r := o.do("PROPFIND", home, "", map[string]string{"Depth": "1"}); r.StatusCode != http.StatusNotFound {
				t.Errorf("%s's PROPFIND of ann's home: %d", who, r.StatusCode)
			}
		}
		bad := newDavUser(t, srv.URL, "ann@a.test", "Wrong-Pass-9x!")
		if r := bad.do("PROPFIND", home, "", map[string]string{"Depth": "1"}); r.StatusCode != http.StatusUnauthorized ||
			!strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
			t.Fatalf("wrong password: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
		// The context path itself: nothing to get, put or delete there.
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			if r := ann.do(m, "/dav", card, map[string]string{"Content-Type": "text/vcard"}); r.StatusCode/100 == 2 {
				t.Errorf("%s /dav: %d", m, r.StatusCode)
			}
		}
		// A vCard over the limit is refused before it is read whole.
		huge := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:huge\r\nFN:Huge\r\nNOTE:" + strings.Repeat("x", 2<<20) + "\r\nEND:VCARD\r\n"
		if r := ann.do("PUT", home+"contacts/huge.vcf", huge, map[string]string{"Content-Type": "text/vcard"}); r.StatusCode/100 == 2 {
			t.Fatalf("a 2 MB vCard: %d", r.StatusCode)
		}
	})
}
