package smtpd_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// TestListPostStatements: a post to a list costs a bounded number of SQL
// statements, not some per member: the members' mailboxes are resolved in
// a few queries, their copies and the remote members' envelopes written
// with multi-row INSERTs. (One by one, a 10,000-member post held SQLite's
// write lock for tens of seconds and every other delivery waited.)
func TestListPostStatements(t *testing.T) {
	const local, remote = 150, 150
	forEachWith(t, func(t *testing.T, e *env) {
		_, err := e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("team@example.test"), Owners: []address.Address{addr("john@example.test")}})
		tcheck(t, err, "list")
		var members []address.Address
		for i := 0; i < local; i++ {
			a := fmt.Sprintf("m%d@example.test", i)
			e.mailbox(a, nil)
			members = append(members, addr(a))
		}
		for i := 0; i < remote; i++ {
			members = append(members, addr(fmt.Sprintf("r%d@d%d.test", i, i%7)))
		}
		tcheck(t, e.ten.AddListMembers(e.ctx, sys, addr("team@example.test"), members), "members")

		var count atomic.Int64
		var mu sync.Mutex
		seen := map[string]int{}
		counting := func(db *gorm.DB) {
			count.Add(1)
			mu.Lock()
			q := db.Statement.SQL.String()
			seen[q[:min(len(q), 70)]]++
			mu.Unlock()
		}
		cb := e.db.Read(e.ctx).Callback()
		tcheck(t, cb.Create().After("gorm:create").Register("test:count", counting), "callback")
		tcheck(t, cb.Query().After("gorm:query").Register("test:count", counting), "callback")
		tcheck(t, cb.Update().After("gorm:update").Register("test:count", counting), "callback")
		tcheck(t, cb.Delete().After("gorm:delete").Register("test:count", counting), "callback")
		tcheck(t, cb.Raw().After("gorm:raw").Register("test:count", counting), "callback")
		tcheck(t, cb.Row().After("gorm:row").Register("test:count", counting), "callback")

		tcheck(t, e.post(t, "john@example.test", "team@example.test", msg("john@example.test", "team@example.test", "many", "")), "post")
		n := count.Load()
		t.Logf("%d statements for a post to %d members", n, local+remote)
		if n > (local+remote)/3 {
			mu.Lock()
			for q, k := range seen {
				if k > 3 {
					t.Logf("%d× %s", k, q)
				}
			}
			mu.Unlock()
			t.Errorf("%d statements for a post to %d members: some are per member", n, local+remote)
		}
		for _, who := range []string{"m0@example.test", "m149@example.test"} {
			if got := e.stored(who); len(got) != 1 {
				t.Errorf("%s holds %d messages, want 1", who, len(got))
			}
		}
		ls := e.kinds(queue.KindList)
		if len(ls) != remote {
			t.Errorf("queued %d list envelopes, want %d", len(ls), remote)
		}
		// Each envelope's VERP sender names the member it goes to: the
		// multi-row INSERTs paired every recipient with its own message.
		ms, err := e.ten.ListMembers(e.ctx, sys, addr("team@example.test"))
		tcheck(t, err, "members")
		idOf := map[string]string{}
		for _, m := range ms {
			idOf[m.Address] = strconv.FormatInt(m.ID, 10)
		}
		for _, q := range ls {
			if len(q.Rcpts) != 1 || !strings.HasPrefix(q.From, "team-bounces+"+idOf[q.Rcpts[0]]+"-") {
				t.Errorf("envelope from %s to %v: its VERP sender names another member", q.From, q.Rcpts)
			}
		}
	}, envOptions{publicURL: "https://mail.example.test"})
}

// post sends body to a list as a member who has logged in (submission).
func (e *env) post(t testing.TB, from, list, body string) error {
	t.Helper()
	return sendOn(e.submitClient(t, from), from, []string{list}, body)
}
