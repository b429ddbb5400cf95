package tenants_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestForwardLoopCheckVisitsEachMailboxOnce: forwards to 100 subaddresses
// of a mailbox that forwards to 100 subaddresses of the next, three levels
// deep, are a million paths but four mailboxes. The check walks mailboxes,
// not paths (it took minutes, holding the write lock, when it walked
// paths), and still finds a loop hidden at the end.
func TestForwardLoopCheckVisitsEachMailboxOnce(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := tenantstest.Service(db, nil)
		sc := tenants.SystemScope("test")
		_, err := s.CreateDomain(ctx, sc, dom(t, "g.test"), "")
		tcheck(t, err, "domain")
		for i := 1; i <= 4; i++ {
			_, err := s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, fmt.Sprintf("g%d@g.test", i)), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
			tcheck(t, err, "mailbox")
		}
		subs := func(n int) []address.Address {
			var out []address.Address
			for i := 0; i < 100; i++ {
				out = append(out, addr(t, fmt.Sprintf("g%d+%d@g.test", n, i)))
			}
			return out
		}
		tcheck(t, s.SetForwards(ctx, sc, addr(t, "g3@g.test"), subs(4), true), "g3")
		tcheck(t, s.SetForwards(ctx, sc, addr(t, "g2@g.test"), subs(3), true), "g2")
		tcheck(t, s.SetForwards(ctx, sc, addr(t, "g1@g.test"), subs(2), true), "g1")
		// g4 back to g1 closes the loop through every level.
		err = s.SetForwards(ctx, sc, addr(t, "g4@g.test"), []address.Address{addr(t, "g1+x@g.test")}, true)
		if err == nil {
			t.Fatal("a loop through three levels of subaddresses was accepted")
		}
	})
}
