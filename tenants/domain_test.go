package tenants_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestCreateDomainNames(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		for _, c := range []struct {
			input    string
			stored   string
			variants []string // other spellings of the same name
		}{
			{"Bücher.Example", "xn--bcher-kva.example", []string{"bücher.example", "BÜCHER.EXAMPLE", "xn--bcher-kva.example"}},
			{"EXAMPLE.COM.", "example.com", []string{"example.com", "Example.Com"}},
			{"faß.example", "xn--fa-hia.example", []string{"xn--fa-hia.example"}},
			{"fass.example", "fass.example", nil}, // distinct from faß (non-transitional)
			{"日本.example", "xn--wgv71a.example", []string{"xn--wgv71a.example"}},
		} {
			t.Run(c.input, func(t *testing.T) {
				d, err := f.svc.CreateDomain(f.ctx, f.sys, f.dom(c.input), "Books")
				if err != nil {
					t.Fatal(err)
				}
				if d.Name != c.stored || !d.Active || d.Description != "Books" || d.IsAlias() || !d.CreatedAt.Equal(fxT0) {
					t.Errorf("created %+v, want name %s", d, c.stored)
				}
				for _, v := range append([]string{c.input}, c.variants...) {
					got, err := f.svc.Domain(f.ctx, f.sys, f.dom(v))
					if err != nil || got.ID != d.ID || got.Name != c.stored {
						t.Errorf("Domain(%s): %+v, %v", v, got, err)
					}
					if _, err := f.svc.CreateDomain(f.ctx, f.sys, f.dom(v), ""); !errors.Is(err, tenants.ErrExists) {
						t.Errorf("duplicate %s: %v, want ErrExists", v, err)
					}
				}
			})
		}
		ds, total, err := f.svc.Domains(f.ctx, f.sys, tenants.DomainQuery{})
		if err != nil || total != 5 {
			t.Fatalf("domains %d, %v", total, err)
		}
		if ds[0].Name != "example.com" {
			t.Errorf("first domain %s, want example.com (sorted by name)", ds[0].Name)
		}

		_, err = f.svc.CreateDomain(f.ctx, f.sys, "", "")
		wantValidation(t, err, "name")
		for _, desc := range []string{"two\nlines", "cr\rhere", "tab\there", strings.Repeat("x", 501), "\xff"} {
			_, err := f.svc.CreateDomain(f.ctx, f.sys, f.dom("new.example"), desc)
			wantValidation(t, err, "description")
		}
		if _, err := f.svc.Domain(f.ctx, f.sys, f.dom("new.example")); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("refused domain exists: %v", err)
		}
	})
}

func TestDeleteDomain(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		a := f.domain("a.example")
		f.domain("keep.example")
		f.mailbox("stay@keep.example", func(nm *tenants.NewMailbox) { nm.Aliases = []address.Localpart{"here"} })
		john := f.mailbox("john@a.example", func(nm *tenants.NewMailbox) { nm.Aliases = []address.Localpart{"jo", "info"} })
		f.mailbox("jane@a.example")
		alias := f.aliasDomain("alias.example", "a.example")
		if err := f.svc.SetForwards(f.ctx, f.sys, f.addr("john@a.example"), []address.Address{f.addr("x@remote.example")}, false); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetResponder(f.ctx, f.sys, f.addr("john@a.example"), tenants.ResponderInput{Enabled: true, Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateAPIKey(f.ctx, f.sys, f.dom("a.example"), "provisioning"); err != nil {
			t.Fatal(err)
		}
		keep := f.snapshot("keep.example")

		err := f.svc.DeleteDomain(f.ctx, f.sys, f.dom("a.example"), false)
		if !errors.Is(err, tenants.ErrNotEmpty) {
			t.Fatalf("delete of a domain with mailboxes: %v, want ErrNotEmpty", err)
		}
		if n := f.count("mailboxes", "domain_id = ?", a.ID); n != 2 {
			t.Fatalf("refused delete left %d mailboxes", n)
		}
		// Without mailboxes, its alias domain still holds it back.
		f.domain("empty.example")
		f.aliasDomain("empty-alias.example", "empty.example")
		if err := f.svc.DeleteDomain(f.ctx, f.sys, f.dom("empty.example"), false); !errors.Is(err, tenants.ErrNotEmpty) {
			t.Errorf("delete of a domain with an alias domain: %v, want ErrNotEmpty", err)
		}
		// An alias domain, and a domain without mailboxes, go without force.
		if err := f.svc.DeleteDomain(f.ctx, f.sys, f.dom("empty-alias.example"), false); err != nil {
			t.Errorf("delete alias domain: %v", err)
		}
		if err := f.svc.DeleteDomain(f.ctx, f.sys, f.dom("empty.example"), false); err != nil {
			t.Errorf("delete empty domain: %v", err)
		}

		if err := f.svc.DeleteDomain(f.ctx, f.sys, f.dom("a.example"), true); err != nil {
			t.Fatalf("forced delete: %v", err)
		}
		for _, name := range []string{"a.example", "alias.example", "empty.example", "empty-alias.example"} {
			if _, err := f.svc.Domain(f.ctx, f.sys, f.dom(name)); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("%s after delete: %v", name, err)
			}
		}
		for table, where := range map[string]string{
			"mailboxes": "domain_id IN ?", "addresses": "domain_id IN ?", "api_keys": "domain_id IN ?",
			"forwards": "mailbox_id = ?", "responders": "mailbox_id = ?", "domains": "id IN ?",
		} {
			arg := any([]int64{a.ID, alias.ID})
			if strings.HasPrefix(where, "mailbox_id") {
				arg = john.ID
			}
			if n := f.count(table, where, arg); n != 0 {
				t.Errorf("%d %s rows left", n, table)
			}
		}
		if got := f.snapshot("keep.example"); !reflect.DeepEqual(keep, got) {
			t.Errorf("another domain changed:\n%+v\n%+v", keep, got)
		}
		if err := f.svc.DeleteDomain(f.ctx, f.sys, f.dom("a.example"), true); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		// The name and its addresses can be used again.
		f.domain("a.example")
		f.mailbox("jo@a.example")
		f.mailbox("john@a.example", func(nm *tenants.NewMailbox) { nm.Aliases = []address.Localpart{"info"} })

		es, err := f.svc.AuditLog(f.ctx, adminScope(), 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range es {
			if e.Action == "domain.delete" && strings.HasPrefix(e.Detail, "a.example (2 mailboxes, 1 alias domains)") && e.Actor == "test" {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit entry for the forced delete in %+v", es)
		}
	})
}

// TestDeleteDomainClearsOtherDomainsPostmaster: a domain may name a mailbox
// of another domain as its postmaster (UpdateDomain resolves it with the
// system scope). DeleteDomain with force deletes the mailboxes first and
// only then clears postmaster_mailbox_id "IN (SELECT id FROM mailboxes WHERE
// domain_id IN ?)" (domain.go), when that subquery no longer finds them, so
// the other domain keeps a dangling postmaster id and mail to its
// postmaster@ fails with a database error. Expected to fail until the
// postmaster ids are cleared before the mailboxes are deleted.
func TestDeleteDomainClearsOtherDomainsPostmaster(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.example")
		f.domain("hq.example")
		f.mailbox("boss@hq.example")
		pm := f.addr("boss@hq.example")
		if _, err := f.svc.UpdateDomain(f.ctx, f.sys, f.dom("a.example"), tenants.DomainUpdate{Postmaster: &pm}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteDomain(f.ctx, f.sys, f.dom("hq.example"), true); err != nil {
			t.Fatal(err)
		}
		d, err := f.svc.Domain(f.ctx, f.sys, f.dom("a.example"))
		if err != nil {
			t.Fatal(err)
		}
		if d.PostmasterMailboxID != nil {
			t.Errorf("a.example's postmaster still points at deleted mailbox %d", *d.PostmasterMailboxID)
		}
		_, err = f.svc.ResolveRecipient(f.ctx, f.addr("postmaster@a.example"))
		if err != nil && !errors.Is(err, tenants.ErrNoSuchUser) {
			t.Errorf("postmaster@a.example: %v, want a plan or ErrNoSuchUser", err)
		}
	})
}

func TestDomainAliasOfRules(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		p := f.domain("p.example")
		f.domain("q.example")
		f.domain("s.example")
		f.domain("t.example")
		f.mailbox("john@p.example")
		f.mailbox("x@t.example")
		f.aliasDomain("r.example", "p.example")

		aliasOf := func(name, target string) (*tenants.Domain, error) {
			var to address.Domain
			if target != "" {
				to = f.dom(target)
			}
			return f.svc.UpdateDomain(f.ctx, f.sys, f.dom(name), tenants.DomainUpdate{AliasOf: &to})
		}
		for _, c := range []struct{ name, domain, target string }{
			{"itself", "q.example", "q.example"},
			{"an alias domain (chain)", "q.example", "r.example"},
			{"a domain with alias domains", "p.example", "q.example"},
			{"a domain with mailboxes", "t.example", "q.example"},
			{"an unknown domain", "q.example", "unknown.example"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := aliasOf(c.domain, c.target)
				wantValidation(t, err, "alias_of")
				if d, _ := f.svc.Domain(f.ctx, f.sys, f.dom(c.domain)); d.AliasOfID != nil {
					t.Errorf("%s became an alias of %d", c.domain, *d.AliasOfID)
				}
			})
		}
		d, err := aliasOf("q.example", "p.example")
		if err != nil || d.AliasOfID == nil || *d.AliasOfID != p.ID || !d.IsAlias() {
			t.Fatalf("q alias of p: %+v, %v", d, err)
		}
		// Now q is an alias: s can't alias it, and it can't hold a mailbox.
		_, err = aliasOf("s.example", "q.example")
		wantValidation(t, err, "alias_of")
		_, err = f.svc.CreateMailbox(f.ctx, f.sys, tenants.NewMailbox{Address: f.addr("y@q.example"), Password: fxPassword, Settings: tenants.DefaultMailboxSettings()})
		wantValidation(t, err, "address")
		ds, _, err := f.svc.Domains(f.ctx, f.sys, tenants.DomainQuery{Search: "q.ex"})
		if err != nil || len(ds) != 1 || ds[0].AliasOf != "p.example" {
			t.Errorf("listed %+v, %v; want q.example alias of p.example", ds, err)
		}
		// Undone, it is a domain of its own again.
		d, err = aliasOf("q.example", "")
		if err != nil || d.AliasOfID != nil {
			t.Fatalf("undo: %+v, %v", d, err)
		}
		f.mailbox("y@q.example")
	})
}

func TestDomainPostmasterSetting(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.example")
		f.domain("b.example")
		pm := f.mailbox("pm@a.example", func(nm *tenants.NewMailbox) { nm.Aliases = []address.Localpart{"desk"} })
		f.aliasDomain("alias.example", "a.example")
		set := func(a address.Address) (*tenants.Domain, error) {
			return f.svc.UpdateDomain(f.ctx, f.sys, f.dom("a.example"), tenants.DomainUpdate{Postmaster: &a})
		}
		for _, bad := range []string{"nobody@a.example", "pm@b.example", "pm@unknown.example"} {
			_, err := set(f.addr(bad))
			wantValidation(t, err, "postmaster")
		}
		if d, _ := f.svc.Domain(f.ctx, f.sys, f.dom("a.example")); d.PostmasterMailboxID != nil {
			t.Fatalf("refused postmaster set: %d", *d.PostmasterMailboxID)
		}
		for _, good := range []string{"pm@a.example", "desk@a.example", "pm@alias.example", "PM@A.EXAMPLE"} {
			d, err := set(f.addr(good))
			if err != nil || d.PostmasterMailboxID == nil || *d.PostmasterMailboxID != pm.ID {
				t.Errorf("postmaster %s: %+v, %v", good, d, err)
			}
		}
		ds, _, err := f.svc.Domains(f.ctx, f.sys, tenants.DomainQuery{Search: "a.example"})
		if err != nil || len(ds) != 1 || ds[0].Postmaster != "pm@a.example" || ds[0].Mailboxes != 1 || ds[0].Aliases != 1 {
			t.Errorf("listed %+v, %v", ds, err)
		}
		d, err := set(address.Address{})
		if err != nil || d.PostmasterMailboxID != nil {
			t.Errorf("clear: %+v, %v", d, err)
		}
	})
}

func TestUpdateDomain(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.example")
		for _, c := range []struct {
			u     tenants.DomainUpdate
			field string
		}{
			{tenants.DomainUpdate{MaxMailboxes: ptrTo(int64(-1))}, "max_mailboxes"},
			{tenants.DomainUpdate{MaxAliases: ptrTo(int64(-1))}, "max_aliases"},
			{tenants.DomainUpdate{DefaultQuota: ptrTo(int64(-1))}, "default_quota"},
			{tenants.DomainUpdate{Description: ptrTo("a\nb")}, "description"},
		} {
			_, err := f.svc.UpdateDomain(f.ctx, f.sys, f.dom("a.example"), c.u)
			wantValidation(t, err, c.field)
		}
		d, err := f.svc.UpdateDomain(f.ctx, f.sys, f.dom("a.example"), tenants.DomainUpdate{
			Description: ptrTo("Alpha"), Active: ptrTo(false), MaxMailboxes: ptrTo(int64(10)), MaxAliases: ptrTo(int64(20)), DefaultQuota: ptrTo(int64(1 << 30)),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Domain(f.ctx, f.sys, f.dom("a.example"))
		if got.Description != "Alpha" || got.Active || got.MaxMailboxes != 10 || got.MaxAliases != 20 || got.DefaultQuota != 1<<30 || got.ID != d.ID {
			t.Errorf("after update %+v", got)
		}
		if _, err := f.svc.UpdateDomain(f.ctx, f.sys, f.dom("nope.example"), tenants.DomainUpdate{Active: ptrTo(true)}); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("update of an unknown domain: %v", err)
		}
		es, err := f.svc.AuditLog(f.ctx, postmasterScope(d, "pm"), 1, 0)
		if err != nil || len(es) != 1 || es[0].Action != "domain.update" || es[0].Actor != "test" ||
			!strings.Contains(es[0].Detail, "active=false") || !strings.Contains(es[0].Detail, "max_mailboxes=10") {
			t.Errorf("audit %+v, %v", es, err)
		}
	})
}
