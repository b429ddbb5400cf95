package delivery_test

import (
	"context"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func addr(s string) address.Address {
	a, err := address.ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

// TestDeliverLocal: the queue's notices reach local senders through the
// same rules (forwards followed, stores deduplicated), and a remote part
// without a queue is refused as temporary.
func TestDeliverLocal(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		sys := tenants.SystemScope("test")
		ten := tenantstest.Service(db, nil)
		files, err := blob.NewFiles(t.TempDir())
		tcheck(t, err, "blobs")
		st := store.New(db, files, store.Options{})
		d := delivery.New(delivery.Options{Tenants: ten, Store: st, MaxForwardHops: 2})
		_, err = ten.CreateDomain(ctx, sys, "example.test", "")
		tcheck(t, err, "domain")
		ids := map[string]int64{}
		for _, m := range []string{"a", "b", "c", "d"} {
			mb, err := ten.CreateMailbox(ctx, sys, tenants.NewMailbox{Address: addr(m + "@example.test"), Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()})
			tcheck(t, err, "mailbox")
			ids[m] = mb.ID
		}
		// a -> b -> c -> d, none keeping a copy: the hop limit (2) keeps
		// it in c rather than following on.
		for _, f := range [][2]string{{"a", "b"}, {"b", "c"}, {"c", "d"}} {
			tcheck(t, ten.SetForwards(ctx, sys, addr(f[0]+"@example.test"), []address.Address{addr(f[1] + "@example.test")}, false), "forward")
		}
		body := "From: <mailer-daemon@example.test>\r\nSubject: notice\r\nAuto-Submitted: auto-replied\r\n\r\nfailed\r\n"
		tcheck(t, d.DeliverLocal(ctx, "", []string{"a@example.test", "A@example.test"}, strings.NewReader(body)), "deliver")
		for m, want := range map[string]int64{"a": 0, "b": 0, "c": 1, "d": 0} {
			_, n, err := st.Usage(ctx, ids[m])
			tcheck(t, err, "usage")
			if n != want {
				t.Errorf("%s holds %d, want %d", m, n, want)
			}
		}
		err = d.DeliverLocal(ctx, "", []string{"someone@remote.test"}, strings.NewReader(body))
		if err == nil || !strings.Contains(err.Error(), delivery.ErrNoQueue.Error()) {
			t.Errorf("remote recipient without a queue: %v", err)
		}
		if err := d.DeliverLocal(ctx, "", []string{"nobody@example.test"}, strings.NewReader(body)); err == nil {
			t.Errorf("unknown local recipient accepted")
		}
	})
}
