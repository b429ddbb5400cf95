package tenants_test

import (
	"reflect"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestDirectory: a user lists the active mailboxes of their own domain,
// never another domain's; an administrator, who has no domain, gets none.
func TestDirectory(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.test")
		f.domain("b.test")
		ann := f.mailbox("ann@a.test", func(n *tenants.NewMailbox) { n.FullName = "Ann Example" })
		f.mailbox("carl@a.test", func(n *tenants.NewMailbox) { n.FullName = "Carl Example" })
		f.mailbox("gone@a.test")
		f.mailbox("bob@b.test", func(n *tenants.NewMailbox) { n.FullName = "Bob Example" })
		off := false
		if _, err := f.svc.UpdateMailbox(f.ctx, f.sys, f.addr("gone@a.test"), tenants.MailboxUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}
		user := tenants.Scope{Role: tenants.RoleUser, Actor: "ann@a.test", DomainID: ann.DomainID, MailboxID: ann.ID}
		for _, tc := range []struct {
			sc     tenants.Scope
			search string
			want   []tenants.DirectoryEntry
		}{
			{user, "", []tenants.DirectoryEntry{{Address: "ann@a.test", Name: "Ann Example"}, {Address: "carl@a.test", Name: "Carl Example"}}},
			{user, "CARL", []tenants.DirectoryEntry{{Address: "carl@a.test", Name: "Carl Example"}}},
			{user, "example", []tenants.DirectoryEntry{{Address: "ann@a.test", Name: "Ann Example"}, {Address: "carl@a.test", Name: "Carl Example"}}},
			{user, "bob", nil},
			{user, "%", nil},
			{tenants.Scope{Role: tenants.RoleAdmin, Actor: "root"}, "", nil},
			{tenants.Scope{}, "", nil},
		} {
			got, err := f.svc.Directory(f.ctx, tc.sc, tc.search, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Directory(%v, %q) = %v, want %v", tc.sc.Role, tc.search, got, tc.want)
			}
		}
	})
}
