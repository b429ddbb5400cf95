// Package e2e_test holds the tests that need both sides of the layout
// rule: the panel (through panel/paneltest) on mailsvc's real parts, such
// as the outbound queue. panel's own tests never import mailsvc, and
// mailsvc's never import panel (see layout_test.go at the module root).
package e2e_test

import (
	"testing"

	"github.com/postdesk/postdesk/panel/paneltest"
)

// TestMain fails a full run when a route that exists only with a
// dependency (the queue's pages and API) has no test here; the panel's
// own tests cover the rest.
func TestMain(m *testing.M) {
	paneltest.Main(m, paneltest.DependencyRoutes)
}
