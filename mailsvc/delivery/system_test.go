package delivery_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSystemMailboxDelivery: postmaster mail nobody was named for is
// stored in the system mailbox, also when a local forward leads there, and
// the system mailbox is bounded (tenants.SystemMailboxQuota): anyone can
// write to it and no tenant's quota covers it.
func TestSystemMailboxDelivery(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		f.mailbox("fwd@example.test", nil)
		f.forwards("fwd@example.test", false, "abuse@example.test")
		body := "From: x@remote.test\r\nSubject: report\r\n\r\n" + strings.Repeat("y", 500) + "\r\n"
		_, err := f.deliver("x@remote.test", []string{"postmaster@example.test", "Postmaster"}, body)
		tcheck(t, err, "deliver")
		_, err = f.deliver("x@remote.test", []string{"fwd@example.test"}, body)
		tcheck(t, err, "deliver through a forward")
		ms, _, err := f.st.SystemMessages(f.ctx, sys, 10, 0)
		tcheck(t, err, "system mailbox")
		// One copy per delivery: the two recipients reach one mailbox.
		if len(ms) != 2 {
			t.Fatalf("system mailbox holds %d messages, want 2", len(ms))
		}
		if n := f.count("fwd@example.test"); n != 0 {
			t.Errorf("the forwarding mailbox kept %d", n)
		}

		p, err := address.ParseForwardPath("abuse@example.test")
		tcheck(t, err, "path")
		rc, err := f.d.Resolve(f.ctx, address.Path{}, p)
		tcheck(t, err, "resolve")
		if !rc.Plan.System || rc.Plan.Mailbox.QuotaBytes != tenants.SystemMailboxQuota {
			t.Fatalf("plan %+v", rc.Plan)
		}
		tcheck(t, f.d.CheckQuota(f.ctx, rc.Plan, 100), "room in the system mailbox")
		// Below the bound by less than what it holds: full.
		used := ms[0].Size + ms[1].Size
		rc.Plan.Mailbox.QuotaBytes = used
		if err := f.d.CheckQuota(f.ctx, rc.Plan, 100); !errors.Is(err, delivery.ErrMailboxFull) {
			t.Errorf("full system mailbox: %v", err)
		}
	})
}
