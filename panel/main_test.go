package panel_test

import (
	"testing"

	"github.com/postdesk/postdesk/panel/paneltest"
)

// TestMain fails a full run when a route of a panel the tests built has no
// handler test. Routes that exist only with the outbound queue are tested
// in package e2e, which builds the panel on mailsvc's queue.
func TestMain(m *testing.M) {
	paneltest.Main(m, paneltest.EveryRoute)
}
