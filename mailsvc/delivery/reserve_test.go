package delivery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestReserveSerialises: two sends of one mailbox counted in concurrent
// transactions (two processes' deliveries) are counted one after the
// other: the second waits for the first to commit, sees its count, and is
// refused past the limit instead of both passing.
func TestReserveSerialises(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		sys := tenants.SystemScope("test")
		ten := tenantstest.Service(db, nil)
		_, err := ten.CreateDomain(ctx, sys, "example.test", "")
		tcheck(t, err, "domain")
		mb, err := ten.CreateMailbox(ctx, sys, tenants.NewMailbox{Address: addr("a@example.test"), Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox")
		acct := delivery.RateAccount{MailboxID: mb.ID, DomainID: mb.DomainID, Address: addr("a@example.test")}
		lim := delivery.NewLimiter(db, delivery.RateLimits{MailboxPerHour: 3, MailboxPerDay: 100, DomainPerHour: 100, DomainPerDay: 100}, nil, nil)

		reserved, commit, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		var once sync.Once
		release := func() { once.Do(func() { close(commit) }) }
		defer release() // a failed test still ends the first transaction
		go func() {
			first <- db.Write(ctx, func(tx *gorm.DB) error {
				if err := lim.Reserve(database.TxOf(tx), acct, 2); err != nil {
					return err
				}
				close(reserved)
				<-commit
				return nil
			})
		}()
		select {
		case <-reserved:
		case err := <-first:
			t.Fatalf("first reserve: %v", err)
		}
		second := make(chan error, 1)
		go func() {
			second <- db.Write(ctx, func(tx *gorm.DB) error { return lim.Reserve(database.TxOf(tx), acct, 2) })
		}()
		select {
		case err := <-second:
			t.Fatalf("the second send was counted beside the first, uncommitted one: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		release()
		tcheck(t, <-first, "first")
		if err := <-second; !errors.Is(err, delivery.ErrRateLimited) {
			t.Fatalf("second send: %v, want ErrRateLimited (2+2 > 3)", err)
		}
		// One more fits.
		tcheck(t, db.Write(ctx, func(tx *gorm.DB) error { return lim.Reserve(database.TxOf(tx), acct, 1) }), "third")
		var n int64
		tcheck(t, db.Read(ctx).Table("submission_log").Where("mailbox_id = ?", mb.ID).Select("COALESCE(SUM(rcpts),0)").Scan(&n).Error, "count")
		if n != 3 {
			t.Errorf("%d recipients counted, want 3", n)
		}
	})
}
