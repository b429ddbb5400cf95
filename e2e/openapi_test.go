package e2e_test

import (
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestOpenAPI checks the served description against the route table: each
// documented operation is a route, each API route is documented.
func TestOpenAPI(t *testing.T) {
	f := newQueueFx(t, tenantstest.Open(t, database.SQLite)).Fx // with the queue: every route
	documented, routes := paneltest.APIOperations(t, f)
	for k := range documented {
		if !routes[k] {
			t.Errorf("documented but no route: %s", k)
		}
	}
	for k := range routes {
		if !documented[k] {
			t.Errorf("route not documented: %s", k)
		}
	}
	if len(routes) < 15 {
		t.Errorf("only %d API routes", len(routes))
	}
}
