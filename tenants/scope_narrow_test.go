package tenants_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestScopeNarrow: narrowing to a domain never widens a scope.
func TestScopeNarrow(t *testing.T) {
	admin := tenants.Scope{Role: tenants.RoleAdmin, Actor: "admin"}
	pmA := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm@a.test", DomainID: 1}
	user := tenants.Scope{Role: tenants.RoleUser, Actor: "ann@a.test", DomainID: 1, MailboxID: 7}
	for _, tc := range []struct {
		name   string
		sc     tenants.Scope
		domain int64
		ok     bool
	}{
		{"admin to any domain", admin, 2, true},
		{"system to any domain", tenants.SystemScope("cli"), 2, true},
		{"postmaster to own", pmA, 1, true},
		{"postmaster to another", pmA, 2, false},
		{"user to own domain", user, 1, false},
		{"zero scope", tenants.Scope{}, 1, false},
		{"postmaster without domain", tenants.Scope{Role: tenants.RolePostmaster}, 0, false},
		{"admin to no domain", admin, 0, false},
	} {
		got, err := tc.sc.Narrow(tc.domain)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		if !tc.ok {
			if !errors.Is(err, tenants.ErrForbidden) {
				t.Errorf("%s: %v, want ErrForbidden", tc.name, err)
			}
			continue
		}
		if got.Role != tenants.RolePostmaster || got.DomainID != tc.domain || got.MailboxID != 0 || got.Actor != tc.sc.Actor || got.AllDomains() {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}

// TestScopeDomainRows: another package's rows with a domain column, seen
// through a scope, on both engines.
func TestScopeDomainRows(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		type row struct {
			ID       int64
			DomainID int64
		}
		table := func() *gorm.DB { return db.Read(ctx).Table("scope_rows_test") }
		if err := db.Read(ctx).Exec("CREATE TABLE scope_rows_test (id INTEGER PRIMARY KEY, domain_id INTEGER)").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Read(ctx).Exec("INSERT INTO scope_rows_test VALUES (1, 1), (2, 2), (3, 1)").Error; err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			sc   tenants.Scope
			want int
		}{
			{"admin", tenants.Scope{Role: tenants.RoleAdmin}, 3},
			{"postmaster of 1", tenants.Scope{Role: tenants.RolePostmaster, DomainID: 1}, 2},
			{"postmaster of 2", tenants.Scope{Role: tenants.RolePostmaster, DomainID: 2}, 1},
		} {
			scope, err := tc.sc.DomainRows("domain_id")
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var rows []row
			if err := table().Scopes(scope).Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.want {
				t.Errorf("%s: %d rows, want %d", tc.name, len(rows), tc.want)
			}
		}
		for _, sc := range []tenants.Scope{{}, {Role: tenants.RoleUser, DomainID: 1, MailboxID: 1}, {Role: tenants.RolePostmaster}} {
			if _, err := sc.DomainRows("domain_id"); !errors.Is(err, tenants.ErrForbidden) {
				t.Errorf("%+v: %v, want ErrForbidden", sc, err)
			}
		}
	})
}
