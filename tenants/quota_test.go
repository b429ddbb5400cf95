package tenants_test

import (
	"context"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const mib = int64(1) << 20

// TestPostmasterQuotaGrants: a postmaster gives no mailbox more than the
// per-mailbox maximum the administrator set (until one is set, the
// domain's default quota), nor, over all the domain's mailboxes, more than
// its storage total; an administrator may set anything. Before, a domain
// key set a quota of 1 PiB in a domain whose default is 10 MiB.
func TestPostmasterQuotaGrants(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := tenantstest.Service(db, nil)
		sys := tenants.SystemScope("test")
		d, err := s.CreateDomain(ctx, sys, dom(t, "a.test"), "")
		tcheck(t, err, "domain")
		def := 10 * mib
		_, err = s.UpdateDomain(ctx, sys, dom(t, "a.test"), tenants.DomainUpdate{DefaultQuota: &def})
		tcheck(t, err, "default quota")
		pm := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm@a.test", DomainID: d.ID}
		n := 0
		create := func(sc tenants.Scope, quota int64) (string, error) {
			n++
			a := "m" + string(rune('a'+n)) + "@a.test"
			st := tenants.DefaultMailboxSettings()
			st.QuotaBytes = quota
			_, err := s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, a), Password: testPassword, Settings: st})
			return a, err
		}
		setQuota := func(sc tenants.Scope, a string, quota int64) error {
			_, err := s.UpdateMailbox(ctx, sc, addr(t, a), tenants.MailboxUpdate{QuotaBytes: &quota})
			return err
		}
		domain := func(u tenants.DomainUpdate) error {
			_, err := s.UpdateDomain(ctx, sys, dom(t, "a.test"), u)
			return err
		}
		ptr := func(n int64) *int64 { return &n }

		// No maximum set: the default quota is the most.
		_, err = create(pm, 1<<50)
		wantValidation(t, err, "quota_bytes")
		_, err = create(pm, 11*mib)
		wantValidation(t, err, "quota_bytes")
		a, err := create(pm, 10*mib)
		tcheck(t, err, "create at the default")
		wantValidation(t, setQuota(pm, a, 1<<50), "quota_bytes")
		tcheck(t, setQuota(pm, a, 5*mib), "lower quota")
		tcheck(t, setQuota(pm, a, 0), "the domain's quota")
		// An administrator may give anything.
		big, err := create(sys, 1<<50)
		tcheck(t, err, "admin creates a big mailbox")
		tcheck(t, setQuota(sys, a, 1<<50), "admin sets a big quota")
		tcheck(t, setQuota(sys, a, 0), "admin resets")
		tcheck(t, s.DeleteMailbox(ctx, sys, addr(t, big)), "delete the big one")

		// A maximum: it replaces the default as the bound, which must not
		// exceed it.
		tcheck(t, domain(tenants.DomainUpdate{MaxMailboxQuota: ptr(100 * mib)}), "maximum")
		wantValidation(t, domain(tenants.DomainUpdate{DefaultQuota: ptr(200 * mib)}), "default_quota")
		wantValidation(t, domain(tenants.DomainUpdate{MaxMailboxQuota: ptr(5 * mib)}), "max_mailbox_quota")
		wantValidation(t, domain(tenants.DomainUpdate{StorageTotal: ptr(-1)}), "storage_total")
		tcheck(t, setQuota(pm, a, 100*mib), "up to the maximum")
		wantValidation(t, setQuota(pm, a, 100*mib+1), "quota_bytes")

		// A storage total of 200 MiB: a (100) and the new ones.
		tcheck(t, domain(tenants.DomainUpdate{StorageTotal: ptr(200 * mib)}), "total")
		b, err := create(pm, 60*mib)
		tcheck(t, err, "within the total") // 160
		_, err = create(pm, 50*mib)        // 210
		wantValidation(t, err, "quota_bytes")
		c, err := create(pm, 0) // the default, 10: 170
		tcheck(t, err, "a mailbox at the default within the total")
		wantValidation(t, setQuota(pm, b, 91*mib), "quota_bytes") // 201
		tcheck(t, setQuota(pm, b, 90*mib), "up to the total")     // 200
		tcheck(t, setQuota(pm, b, 90*mib), "the same again")
		_, err = create(pm, 0) // 210
		wantValidation(t, err, "quota_bytes")
		tcheck(t, setQuota(pm, c, 0), "unchanged default")
		// An administrator is not bound by the total.
		_, err = create(sys, 50*mib)
		tcheck(t, err, "admin past the total")
		// Now over the total: more is refused, less passes.
		wantValidation(t, setQuota(pm, c, 10*mib+1), "quota_bytes")
		tcheck(t, setQuota(pm, b, 80*mib), "less, while over the total")
		tcheck(t, domain(tenants.DomainUpdate{StorageTotal: ptr(0)}), "clear the total")
		tcheck(t, setQuota(pm, c, 100*mib), "no total")

		// No default and no maximum, but a total: a mailbox without a
		// quota would be unlimited.
		tcheck(t, domain(tenants.DomainUpdate{DefaultQuota: ptr(0), MaxMailboxQuota: ptr(0), StorageTotal: ptr(1 << 40)}), "total only")
		_, err = create(pm, 0)
		wantValidation(t, err, "quota_bytes")
	})
}
