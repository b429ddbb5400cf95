package tenants_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func (f *fx) login(addr string) *tenants.Login {
	f.t.Helper()
	l, err := f.svc.ResolveLogin(f.ctx, tenants.MailboxLogin, addr, fxPassword, "192.0.2.9")
	if err != nil {
		f.t.Fatalf("login %s: %v", addr, err)
	}
	return l
}

func testCard(uid, fn, email string) vcard.Card {
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, "3.0")
	c.SetValue(vcard.FieldUID, uid)
	c.SetValue(vcard.FieldFormattedName, fn)
	c.SetName(&vcard.Name{FamilyName: fn[strings.LastIndexByte(fn, ' ')+1:], GivenName: fn[:max(strings.IndexByte(fn, ' '), 0)]})
	c.SetValue(vcard.FieldEmail, email)
	return c
}

func slugs(books []tenants.ContactBook) []string {
	var out []string
	for _, b := range books {
		out = append(out, fmt.Sprintf("%s:%s:%t", b.Slug, b.Kind, b.Writable))
	}
	return out
}

func emailsOf(cs []tenants.Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Emails...)
	}
	slices.Sort(out)
	return out
}

// TestContactBooksIsolation: each user reaches their own book, the GAB and
// the directory of their own domain; another user's private book is not
// found (same domain or not); the GAB is writable to postmasters and to
// mailboxes given the permission only.
func TestContactBooksIsolation(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.domain("b.test")
		f.mailbox("ann@a.test")
		f.mailbox("bob@a.test")
		f.mailbox("pm@a.test", func(n *tenants.NewMailbox) { n.Settings.Postmaster = true })
		f.mailbox("dan@b.test")
		ann, bob, pm, dan := f.login("ann@a.test"), f.login("bob@a.test"), f.login("pm@a.test"), f.login("dan@b.test")

		books, err := f.svc.ContactBooks(f.ctx, ann)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := slugs(books), []string{"contacts:personal:true", "gab:gab:false", "directory:directory:false"}; !slices.Equal(got, want) {
			t.Fatalf("ann's books = %v, want %v", got, want)
		}
		if _, _, err := f.svc.PutContact(f.ctx, ann, "contacts", "x.vcf", testCard("x", "Xena Private", "xena@example.org"), tenants.PutCondition{}); err != nil {
			t.Fatal(err)
		}
		// bob's "contacts" is bob's own: empty, never ann's.
		for _, who := range []*tenants.Login{bob, dan} {
			cs, err := f.svc.ListContacts(f.ctx, who, "contacts")
			if err != nil || len(cs) != 0 {
				t.Fatalf("%s lists %v, %v in their own book", who.Address, emailsOf(cs), err)
			}
			if _, err := f.svc.GetContact(f.ctx, who, "contacts", "x.vcf"); !errors.Is(err, tenants.ErrNotFound) {
				t.Fatalf("%s reads ann's contact: %v", who.Address, err)
			}
		}
		// The GAB: pm writes, ann reads and may not write, dan sees another GAB.
		if _, _, err := f.svc.PutContact(f.ctx, ann, "gab", "g.vcf", testCard("g", "Gina Global", "gina@partner.example"), tenants.PutCondition{}); !errors.Is(err, tenants.ErrForbidden) {
			t.Fatalf("ann writes the GAB: %v", err)
		}
		if _, _, err := f.svc.PutContact(f.ctx, pm, "gab", "g.vcf", testCard("g", "Gina Global", "gina@partner.example"), tenants.PutCondition{}); err != nil {
			t.Fatal(err)
		}
		if cs, err := f.svc.ListContacts(f.ctx, ann, "gab"); err != nil || !slices.Equal(emailsOf(cs), []string{"gina@partner.example"}) {
			t.Fatalf("ann's GAB = %v, %v", emailsOf(cs), err)
		}
		if err := f.svc.DeleteContact(f.ctx, ann, "gab", "g.vcf", ""); !errors.Is(err, tenants.ErrForbidden) {
			t.Fatalf("ann deletes from the GAB: %v", err)
		}
		if cs, err := f.svc.ListContacts(f.ctx, dan, "gab"); err != nil || len(cs) != 0 {
			t.Fatalf("dan's GAB = %v, %v", emailsOf(cs), err)
		}
		// The permission: bob may edit the GAB once given it.
		yes := true
		f.update("bob@a.test", tenants.MailboxUpdate{MayEditGAB: &yes})
		bob = f.login("bob@a.test")
		if _, _, err := f.svc.PutContact(f.ctx, bob, "gab", "h.vcf", testCard("h", "Hal Global", "hal@partner.example"), tenants.PutCondition{}); err != nil {
			t.Fatalf("bob with may_edit_gab: %v", err)
		}
		// Nobody reaches an unknown or another kind's slug.
		if _, err := f.svc.ContactBook(f.ctx, ann, "shared-1"); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("ann reaches shared-1: %v", err)
		}
	})
}

// TestDirectoryPeople: the directory lists the mailboxes a person reads,
// with names and the aliases not hidden; hidden, disabled, expired and
// forward-only mailboxes and other domains never show.
func TestDirectoryPeople(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.domain("b.test")
		f.mailbox("ann@a.test", func(n *tenants.NewMailbox) { n.FullName = "Ann Marie Able" })
		f.mailbox("bare@a.test")
		for _, a := range []string{"hid", "off", "old", "fwd"} {
			f.mailbox(a + "@a.test")
		}
		f.mailbox("dan@b.test")
		f.alias("sales@a.test", "ann@a.test")
		f.alias("secret@a.test", "ann@a.test")
		no, past := false, fxT0.Add(-time.Hour)
		f.update("hid@a.test", tenants.MailboxUpdate{InDirectory: &no})
		f.update("off@a.test", tenants.MailboxUpdate{Active: &no})
		f.update("old@a.test", tenants.MailboxUpdate{ExpiresAt: &past})
		if err := f.setForwards("fwd@a.test", false, "x@example.org"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetAliasDirectory(f.ctx, f.sys, f.addr("secret@a.test"), false); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetAliasDirectory(f.ctx, f.sys, f.addr("nobody@a.test"), false); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("switch of an unknown alias: %v", err)
		}
		if err := f.svc.SetAliasDirectory(f.ctx, f.login("ann@a.test").UserScope(""), f.addr("sales@a.test"), false); !errors.Is(err, tenants.ErrForbidden) {
			t.Fatalf("a user switches an alias: %v", err)
		}
		ps, err := f.svc.DirectoryPeople(f.ctx, f.login("ann@a.test"))
		if err != nil {
			t.Fatal(err)
		}
		want := []tenants.DirectoryPerson{
			{LocalPart: "ann", Address: "ann@a.test", Aliases: []string{"sales@a.test"}, Name: "Ann Marie Able", Given: "Ann Marie", Family: "Able"},
			{LocalPart: "bare", Address: "bare@a.test", Name: "bare@a.test", Family: "bare"},
		}
		if fmt.Sprint(ps) != fmt.Sprint(want) {
			t.Fatalf("directory = %+v\nwant %+v", ps, want)
		}
		// Webmail's completion is the same list.
		l := f.login("ann@a.test")
		got, err := f.svc.Directory(f.ctx, l.UserScope(""), "", 0)
		if err != nil || len(got) != 2 || got[0].Address != "ann@a.test" || got[1].Address != "bare@a.test" {
			t.Fatalf("Directory = %v, %v", got, err)
		}
		cs, err := f.svc.ListContacts(f.ctx, l, "directory")
		if err != nil || !slices.Equal(emailsOf(cs), []string{"ann@a.test", "bare@a.test", "sales@a.test"}) {
			t.Fatalf("directory book = %v, %v", emailsOf(cs), err)
		}
		if _, _, err := f.svc.PutContact(f.ctx, l, "directory", "x.vcf", testCard("x", "X Y", "x@a.test"), tenants.PutCondition{}); !errors.Is(err, tenants.ErrForbidden) {
			t.Fatalf("a write into the directory: %v", err)
		}
	})
}

// TestContactConditionsAndSync: If-Match and If-None-Match fail with
// ErrPrecondition and change nothing; sync tokens report updates and
// deletions since them, in bounded pieces.
func TestContactConditionsAndSync(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.mailbox("ann@a.test")
		ann := f.login("ann@a.test")
		c1, created, err := f.svc.PutContact(f.ctx, ann, "contacts", "z.vcf", testCard("z", "Zed One", "z@example.org"), tenants.PutCondition{IfNoneMatch: true})
		if err != nil || !created {
			t.Fatal(created, err)
		}
		start, err := f.svc.SyncContacts(f.ctx, ann, "contacts", "", 0)
		if err != nil || len(start.Updated) != 1 {
			t.Fatalf("initial sync: %+v, %v", start, err)
		}
		if _, _, err := f.svc.PutContact(f.ctx, ann, "contacts", "z.vcf", testCard("z", "Zed Again", "z@example.org"), tenants.PutCondition{IfNoneMatch: true}); !errors.Is(err, tenants.ErrPrecondition) {
			t.Fatalf("If-None-Match over an existing contact: %v", err)
		}
		c2, created, err := f.svc.PutContact(f.ctx, ann, "contacts", "z.vcf", testCard("z", "Zed Two", "z@example.org"), tenants.PutCondition{IfMatch: c1.ETag})
		if err != nil || created || c2.ETag == c1.ETag {
			t.Fatalf("If-Match with the current ETag: %v, created %t, etag %s", err, created, c2.ETag)
		}
		if _, _, err := f.svc.PutContact(f.ctx, ann, "contacts", "z.vcf", testCard("z", "Zed Stale", "z@example.org"), tenants.PutCondition{IfMatch: c1.ETag}); !errors.Is(err, tenants.ErrPrecondition) {
			t.Fatalf("a stale If-Match: %v", err)
		}
		if err := f.svc.DeleteContact(f.ctx, ann, "contacts", "z.vcf", c1.ETag); !errors.Is(err, tenants.ErrPrecondition) {
			t.Fatalf("a stale If-Match on DELETE: %v", err)
		}
		if got, _ := f.svc.GetContact(f.ctx, ann, "contacts", "z.vcf"); got == nil || got.FullName != "Zed Two" {
			t.Fatalf("after the refused writes: %+v", got)
		}
		if _, _, err := f.svc.PutContact(f.ctx, ann, "contacts", "other.vcf", testCard("z", "Zed Clash", "z@example.org"), tenants.PutCondition{}); !errors.Is(err, tenants.ErrUIDConflict) {
			t.Fatalf("a second contact with the same UID: %v", err)
		}
		mid, err := f.svc.SyncContacts(f.ctx, ann, "contacts", start.Token, 0)
		if err != nil || len(mid.Updated) != 1 || mid.Updated[0].FullName != "Zed Two" || len(mid.Deleted) != 0 {
			t.Fatalf("sync after the edit: %+v, %v", mid, err)
		}
		if err := f.svc.DeleteContact(f.ctx, ann, "contacts", "z.vcf", c2.ETag); err != nil {
			t.Fatal(err)
		}
		end, err := f.svc.SyncContacts(f.ctx, ann, "contacts", mid.Token, 0)
		if err != nil || len(end.Updated) != 0 || !slices.Equal(end.Deleted, []string{"z.vcf"}) {
			t.Fatalf("sync after the deletion: %+v, %v", end, err)
		}
		if _, err := f.svc.SyncContacts(f.ctx, ann, "contacts", "urn:x-postdesk:sync:999999", 0); !errors.Is(err, tenants.ErrSyncToken) {
			t.Fatalf("a token from the future: %v", err)
		}
		// Bounded answers: 5 changes in pieces of 2, the last not truncated.
		for i := range 5 {
			if _, _, err := f.svc.PutContact(f.ctx, ann, "contacts", fmt.Sprintf("n%d.vcf", i), testCard(fmt.Sprintf("n%d", i), "N Person", "n@example.org"), tenants.PutCondition{}); err != nil {
				t.Fatal(err)
			}
		}
		tok, seen := end.Token, 0
		for range 3 {
			ch, err := f.svc.SyncContacts(f.ctx, ann, "contacts", tok, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.Updated) > 2 {
				t.Fatalf("a piece of %d, limit 2", len(ch.Updated))
			}
			seen += len(ch.Updated)
			tok = ch.Token
			if !ch.Truncated {
				break
			}
		}
		if seen != 5 {
			t.Fatalf("synced %d of 5 changes in pieces", seen)
		}
	})
}

// TestContactLimits: an oversized vCard, one without UID and bad names
// are refused and store nothing.
func TestContactLimits(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.mailbox("ann@a.test")
		ann := f.login("ann@a.test")
		big := testCard("big", "Big Photo", "big@example.org")
		big.SetValue(vcard.FieldNote, strings.Repeat("x", tenants.MaxVCardBytes))
		noUID := testCard("u", "No Uid", "n@example.org")
		delete(noUID, vcard.FieldUID)
		var ve *tenants.ValidationError
		for _, tc := range []struct {
			href string
			card vcard.Card
		}{{"big.vcf", big}, {"nouid.vcf", noUID}, {"../x.vcf", testCard("a", "A B", "a@example.org")}, {"a/b.vcf", testCard("b", "A B", "a@example.org")}, {"", testCard("c", "A B", "a@example.org")}} {
			if _, _, err := f.svc.PutContact(f.ctx, ann, "contacts", tc.href, tc.card, tenants.PutCondition{}); !errors.As(err, &ve) {
				t.Errorf("PutContact(%q) = %v, want a validation error", tc.href, err)
			}
		}
		if n := f.count("contacts", ""); n != 0 {
			t.Fatalf("%d contacts stored", n)
		}
	})
}

// TestGABManagers: administrators and a domain's postmasters manage its
// GAB by scope; another domain's postmaster and users may not; imports
// are bounded and all or nothing.
func TestGABManagers(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.domain("b.test")
		f.mailbox("ann@a.test")
		pmB := f.mailbox("pm@b.test", func(n *tenants.NewMailbox) { n.Settings.Postmaster = true })
		scB := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm@b.test", DomainID: pmB.DomainID}
		card, err := tenants.ContactFields{UID: "g", FullName: "Gina Global", Emails: []string{"gina@partner.example"}}.Card()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.PutGABContact(f.ctx, scB, "a.test", card); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("b.test's postmaster writes a.test's GAB: %v", err)
		}
		if _, _, err := f.svc.PutGABContact(f.ctx, f.login("ann@a.test").UserScope(""), "a.test", card); !errors.Is(err, tenants.ErrForbidden) {
			t.Fatalf("a user writes the GAB by scope: %v", err)
		}
		if _, created, err := f.svc.PutGABContact(f.ctx, f.sys, "a.test", card); err != nil || !created {
			t.Fatalf("the administrator: %v %t", err, created)
		}
		// The user sees it through CardDAV's view.
		if cs, err := f.svc.ListContacts(f.ctx, f.login("ann@a.test"), "gab"); err != nil || len(cs) != 1 {
			t.Fatalf("ann's GAB: %v %v", cs, err)
		}
		if _, err := f.svc.GABContacts(f.ctx, scB, "a.test", "", 0); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("b.test's postmaster lists a.test's GAB: %v", err)
		}
		var ve *tenants.ValidationError
		big := strings.NewReader(strings.Repeat("x", tenants.MaxContactImportBytes+1))
		if _, err := f.svc.ImportGAB(f.ctx, f.sys, "a.test", big, false); !errors.As(err, &ve) {
			t.Fatalf("an import over the size limit: %v", err)
		}
		var many strings.Builder
		for i := range tenants.MaxContactImportCards + 1 {
			fmt.Fprintf(&many, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:P%d\r\nEND:VCARD\r\n", i)
		}
		if _, err := f.svc.ImportGAB(f.ctx, f.sys, "a.test", strings.NewReader(many.String()), false); !errors.As(err, &ve) {
			t.Fatalf("an import of too many cards: %v", err)
		}
		rep, err := f.svc.ImportGAB(f.ctx, f.sys, "a.test", strings.NewReader("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ok\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nFN:Big\r\nNOTE:"+strings.Repeat("x", tenants.MaxVCardBytes)+"\r\nEND:VCARD\r\n"), false)
		if !errors.As(err, &ve) || rep == nil || len(rep.Errors) != 1 || !strings.HasPrefix(rep.Errors[0], "card 2:") {
			t.Fatalf("an import with one bad card: %+v, %v", rep, err)
		}
		if cs, _ := f.svc.GABContacts(f.ctx, f.sys, "a.test", "", 0); len(cs) != 1 {
			t.Fatalf("the bad import left %d contacts", len(cs))
		}
	})
}

// TestAddressCompletion: own books first, then the GAB, then the
// directory; each address once; nothing of another user's private book or
// another domain.
func TestAddressCompletion(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.domain("b.test")
		f.mailbox("ann@a.test", func(n *tenants.NewMailbox) { n.FullName = "Ann Able" })
		f.mailbox("bob@a.test", func(n *tenants.NewMailbox) { n.FullName = "Bob Baker" })
		f.mailbox("pm@a.test", func(n *tenants.NewMailbox) { n.Settings.Postmaster = true })
		f.mailbox("dan@b.test")
		ann, bob, pm := f.login("ann@a.test"), f.login("bob@a.test"), f.login("pm@a.test")
		// Completion before any book exists changes nothing.
		if _, err := f.svc.AddressCompletion(f.ctx, ann, "", 0); err != nil || f.count("address_books", "") != 0 {
			t.Fatalf("completion made books (%d) or failed: %v", f.count("address_books", ""), err)
		}
		put := func(l *tenants.Login, slug, uid, fn, email string) {
			t.Helper()
			if _, _, err := f.svc.PutContact(f.ctx, l, slug, uid+".vcf", testCard(uid, fn, email), tenants.PutCondition{}); err != nil {
				t.Fatal(err)
			}
		}
		put(ann, "contacts", "z", "Zoe Zed", "zoe@example.org")
		put(ann, "contacts", "b", "Bob Private", "bob@a.test")
		put(pm, "gab", "g", "Gina Global", "gina@partner.example")
		put(bob, "contacts", "s", "Sam Secret", "sam@example.org")
		got, err := f.svc.AddressCompletion(f.ctx, ann, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for _, e := range got {
			addrs = append(addrs, e.Name+" <"+e.Address+">")
		}
		want := []string{"Bob Private <bob@a.test>", "Zoe Zed <zoe@example.org>", "Gina Global <gina@partner.example>", "Ann Able <ann@a.test>", " <pm@a.test>"}
		if !slices.Equal(addrs, want) {
			t.Fatalf("completion %q\nwant %q", addrs, want)
		}
		got, err = f.svc.AddressCompletion(f.ctx, ann, "gin", 0)
		if err != nil || len(got) != 1 || got[0].Address != "gina@partner.example" {
			t.Fatalf("completion of gin: %v %v", got, err)
		}
		if got, _ := f.svc.AddressCompletion(f.ctx, f.login("dan@b.test"), "", 0); len(got) != 1 || got[0].Address != "dan@b.test" {
			t.Fatalf("dan's completion: %v", got)
		}
	})
}

// TestBookSharing: a private book is not found by another user of the
// domain until shared; a read-only share reads, a read-write share
// writes; the whole domain reads a domain-shared book; shares never cross
// domains, and only the owner shares.
func TestBookSharing(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.domain("b.test")
		for _, a := range []string{"ann@a.test", "bob@a.test", "cat@a.test", "dan@b.test"} {
			f.mailbox(a)
		}
		f.alias("robert@a.test", "bob@a.test")
		ann, bob, cat, dan := f.login("ann@a.test"), f.login("bob@a.test"), f.login("cat@a.test"), f.login("dan@b.test")
		b, err := f.svc.CreateBook(f.ctx, ann, "Team")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.PutContact(f.ctx, ann, b.Slug, "t.vcf", testCard("t", "Tom Team", "tom@example.org"), tenants.PutCondition{}); err != nil {
			t.Fatal(err)
		}
		slugOf := func(l *tenants.Login) string {
			t.Helper()
			books, err := f.svc.ContactBooks(f.ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range books {
				if x.Kind == tenants.BookShared && x.Name == "Team" {
					return x.Slug
				}
			}
			return ""
		}
		if s := slugOf(bob); s != "" {
			t.Fatalf("bob reaches ann's private book as %s", s)
		}
		if err := f.svc.ShareBook(f.ctx, ann, b.Slug, f.addr("dan@b.test"), false); err == nil {
			t.Fatal("a share across domains")
		}
		if err := f.svc.ShareBook(f.ctx, bob, b.Slug, f.addr("cat@a.test"), true); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("bob shares ann's book: %v", err)
		}
		if err := f.svc.ShareBook(f.ctx, ann, b.Slug, f.addr("robert@a.test"), false); err != nil {
			t.Fatal(err)
		}
		s := slugOf(bob)
		if s == "" {
			t.Fatal("bob does not reach the shared book")
		}
		if cs, err := f.svc.ListContacts(f.ctx, bob, s); err != nil || len(cs) != 1 {
			t.Fatalf("bob lists %v, %v", cs, err)
		}
		if _, _, err := f.svc.PutContact(f.ctx, bob, s, "x.vcf", testCard("x", "X Y", "x@example.org"), tenants.PutCondition{}); !errors.Is(err, tenants.ErrForbidden) {
			t.Fatalf("bob writes a read-only share: %v", err)
		}
		if err := f.svc.ShareBook(f.ctx, ann, b.Slug, f.addr("bob@a.test"), true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.PutContact(f.ctx, bob, s, "x.vcf", testCard("x", "X Y", "x@example.org"), tenants.PutCondition{}); err != nil {
			t.Fatalf("bob writes a read-write share: %v", err)
		}
		if sh, dr, err := f.svc.BookShares(f.ctx, ann, b.Slug); err != nil || dr || len(sh) != 1 || sh[0] != (tenants.BookShare{Address: "bob@a.test", MayWrite: true}) {
			t.Fatalf("shares %v %t %v", sh, dr, err)
		}
		if slugOf(cat) != "" {
			t.Fatal("cat reaches the book shared with bob")
		}
		if err := f.svc.SetBookDomainRead(f.ctx, ann, b.Slug, true); err != nil {
			t.Fatal(err)
		}
		cs := slugOf(cat)
		if cs == "" {
			t.Fatal("cat does not reach the domain-shared book")
		}
		if _, _, err := f.svc.PutContact(f.ctx, cat, cs, "c.vcf", testCard("c", "C D", "c@example.org"), tenants.PutCondition{}); !errors.Is(err, tenants.ErrForbidden) {
			t.Fatalf("cat writes a domain-shared book: %v", err)
		}
		if slugOf(dan) != "" {
			t.Fatal("dan of b.test reaches a.test's domain-shared book")
		}
		if err := f.svc.UnshareBook(f.ctx, ann, b.Slug, f.addr("bob@a.test")); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetBookDomainRead(f.ctx, ann, b.Slug, false); err != nil {
			t.Fatal(err)
		}
		if slugOf(bob) != "" || slugOf(cat) != "" {
			t.Fatal("the book is still shared")
		}
		if err := f.svc.DeleteBook(f.ctx, ann, "contacts"); err == nil {
			t.Fatal("the Contacts book was deleted")
		}
		if err := f.svc.DeleteBook(f.ctx, ann, b.Slug); err != nil {
			t.Fatal(err)
		}
		if n := f.count("contacts", ""); n != 0 {
			t.Fatalf("%d contacts left after the book's deletion", n)
		}
	})
}

// TestImportCSV: the CSV of Outlook (UTF-16), Google Contacts and
// Thunderbird (Windows-1252) import with their headers mapped; a formula
// cell, broken quoting and too many rows are refused, all or nothing;
// the export escapes formulas.
func TestImportCSV(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		imp := func(data []byte) (*tenants.ImportReport, error) {
			return f.svc.ImportGAB(f.ctx, f.sys, "a.test", bytes.NewReader(data), false)
		}
		outlook := "First Name,Middle Name,Last Name,Company,Job Title,E-mail Address,E-mail Type,Business Phone,Custom Field\r\n" +
			"Olga,,Outlook,Acme,Buyer,olga@acme.example,SMTP,+1 555 0101,x\r\n"
		u16 := []byte{0xFF, 0xFE}
		for _, r := range outlook {
			u16 = append(u16, byte(r), byte(r>>8))
		}
		rep, err := imp(u16)
		if err != nil || rep.Imported != 1 || !slices.Equal(rep.Ignored, []string{"Custom Field", "E-mail Type", "Middle Name"}) {
			t.Fatalf("Outlook CSV: %+v %v", rep, err)
		}
		google := "Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Value,Organization 1 - Name\n" +
			"\"Gus, Google\",Gus,Google,* Work,gus@g.example,+1 555 0102,\"G \"\"Corp\"\"\"\n"
		if rep, err := imp([]byte(google)); err != nil || rep.Imported != 1 {
			t.Fatalf("Google CSV: %+v %v", rep, err)
		}
		tb := []byte("First Name,Last Name,Display Name,Primary Email\nJ\xfcrgen,M\xfcller,J\xfcrgen M\xfcller,jm@t.example\n")
		if rep, err := imp(tb); err != nil || rep.Imported != 1 {
			t.Fatalf("Thunderbird CSV: %+v %v", rep, err)
		}
		cs, err := f.svc.GABContacts(f.ctx, f.sys, "a.test", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		byMail := map[string]tenants.Contact{}
		for _, c := range cs {
			byMail[c.Emails[0]] = c
		}
		if c := byMail["olga@acme.example"]; c.FullName != "Olga Outlook" || c.Org != "Acme" || c.Title != "Buyer" || !slices.Equal(c.Phones, []string{"+1 555 0101"}) {
			t.Errorf("Outlook row %+v", c)
		}
		if c := byMail["gus@g.example"]; c.FullName != "Gus, Google" || c.Org != `G "Corp"` {
			t.Errorf("Google row %+v", c)
		}
		if c := byMail["jm@t.example"]; c.FullName != "Jürgen Müller" {
			t.Errorf("Windows-1252 row %+v", c)
		}
		var ve *tenants.ValidationError
		for name, data := range map[string]string{
			"a formula":       "Name,E-mail Address\nOk,ok@x.example\n\"=HYPERLINK(\"\"http://evil\"\")\",bad@x.example\n",
			"broken quoting":  "Name,E-mail Address\n\"Unclosed,u@x.example\n",
			"no known column": "Foo,Bar\n1,2\n",
			"too many rows":   "Name\n" + strings.Repeat("P\n", tenants.MaxContactImportCards+1),
		} {
			if _, err := imp([]byte(data)); !errors.As(err, &ve) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if n := f.count("contacts", ""); n != 3 {
			t.Fatalf("%d contacts after the refused imports, want 3", n)
		}
		var out bytes.Buffer
		if err := tenants.ContactsCSV(&out, []tenants.Contact{{FullName: "=cmd()", Emails: []string{"a@x.example"}}}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "'=cmd()") {
			t.Errorf("export %q", out.String())
		}
	})
}
