package database_test

import (
	"context"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestLikeEscape: %, _ and \ in a search match themselves, on both engines.
func TestLikeEscape(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		for _, tc := range []struct {
			text, search string
			want         bool
		}{
			{"100% sure", "0% s", true},
			{"100 percent", "0% ", false},
			{"a_b", "a_b", true},
			{"axb", "a_b", false},
			{`back\slash`, `k\s`, true},
			{`backslash`, `k\s`, false},
			{"MiXeD", "mixed", true},
		} {
			var n int64
			err := db.Read(ctx).Raw(`SELECT COUNT(*) WHERE LOWER(?) LIKE ? ESCAPE '\'`, tc.text, database.Contains(tc.search)).Scan(&n).Error
			if err != nil {
				t.Fatal(err)
			}
			if (n == 1) != tc.want {
				t.Errorf("%q contains %q: %v, want %v", tc.text, tc.search, n == 1, tc.want)
			}
		}
	})
}
