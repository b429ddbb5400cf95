package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
)

// job is a message a worker holds the lease of, with its due recipients.
type job struct {
	token string
	msg   messageRow
	rcpts []rcptRow
}

// errLeaseLost is a lease that ran out or whose message was deleted.
var errLeaseLost = errors.New("lease lost")

// claim leases the due message with the earliest next attempt. With none
// due it returns nil and when the next one falls due (zero: none queued).
//
// The lease is taken by an UPDATE whose WHERE repeats the conditions, so
// of two processes racing for a message only one changes the row (on
// PostgreSQL the loser's UPDATE waits for the winner's commit and then no
// longer matches); SKIP LOCKED lets the loser pick another message instead
// of waiting. On SQLite DB.Write serialises writers anyway.
func (q *Queue) claim(ctx context.Context) (*job, time.Time, error) {
	now := q.clock()
	token := q.owner + "." + strconv.FormatUint(q.seq.Add(1), 10)
	var id int64
	var next time.Time
	err := q.db.Write(ctx, func(tx *gorm.DB) error {
		id, next = 0, time.Time{}
		sel := tx.Model(&messageRow{}).Select("id").
			Where("next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", now, now).
			Order("next_attempt_at, id").Limit(1)
		if q.db.Dialect() == database.Postgres {
			sel = sel.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var ids []int64
		if err := sel.Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("find due message: %w", err)
		}
		if len(ids) == 0 {
			var n []time.Time
			err := tx.Model(&messageRow{}).Where("lease_until IS NULL OR lease_until <= ?", now).
				Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &n).Error
			if err != nil {
				return fmt.Errorf("find next due message: %w", err)
			}
			if len(n) > 0 {
				next = n[0]
			}
			return nil
		}
		res := tx.Model(&messageRow{}).
			Where("id = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", ids[0], now, now).
			Updates(map[string]any{"lease_owner": token, "lease_until": now.Add(q.opts.LeaseDuration)})
		if res.Error != nil {
			return fmt.Errorf("lease message: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			id = ids[0]
		}
		return nil
	})
	if err != nil || id == 0 {
		return nil, next, err
	}
	j := &job{token: token}
	db := q.db.Read(ctx)
	if err := db.Take(&j.msg, id).Error; err != nil {
		q.release(ctx, j)
		return nil, time.Time{}, fmt.Errorf("read message %d: %w", id, err)
	}
	if err := db.Where("message_id = ? AND next_attempt_at <= ?", id, now).Order("id").Find(&j.rcpts).Error; err != nil {
		q.release(ctx, j)
		return nil, time.Time{}, fmt.Errorf("read recipients of %d: %w", id, err)
	}
	if len(j.rcpts) == 0 {
		// The message's next attempt was wrong (a recipient was removed):
		// put it right, or remove a message left without recipients.
		if err := q.fixEmpty(ctx, j); err != nil {
			return nil, time.Time{}, err
		}
		return nil, now, nil
	}
	return j, time.Time{}, nil
}

// fixEmpty recomputes the next attempt of a leased message without due
// recipients, deleting it if none are left.
func (q *Queue) fixEmpty(ctx context.Context, j *job) error {
	return q.db.Write(context.WithoutCancel(ctx), func(tx *gorm.DB) error {
		if err := q.lockLeaseTx(tx, j); err != nil {
			return err
		}
		return q.settleMessageTx(tx, j.msg.ID)
	})
}

// lockLeaseTx ends the lease of j in tx, failing with errLeaseLost when
// it is no longer j's. On PostgreSQL it locks the row for the rest of tx.
func (q *Queue) lockLeaseTx(tx *gorm.DB, j *job) error {
	res := tx.Model(&messageRow{}).Where("id = ? AND lease_owner = ?", j.msg.ID, j.token).
		Updates(map[string]any{"lease_owner": "", "lease_until": nil})
	if res.Error != nil {
		return fmt.Errorf("end lease: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return errLeaseLost
	}
	return nil
}

// settleMessageTx sets a message's next attempt to its recipients'
// earliest, or deletes it when none are left.
func (q *Queue) settleMessageTx(tx *gorm.DB, id int64) error {
	var next []time.Time
	if err := tx.Model(&rcptRow{}).Where("message_id = ?", id).Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &next).Error; err != nil {
		return fmt.Errorf("read next attempt: %w", err)
	}
	if len(next) == 0 {
		if err := tx.Delete(&messageRow{}, id).Error; err != nil {
			return fmt.Errorf("delete finished message: %w", err)
		}
		return nil
	}
	if err := tx.Model(&messageRow{}).Where("id = ?", id).Update("next_attempt_at", next[0]).Error; err != nil {
		return fmt.Errorf("set next attempt: %w", err)
	}
	return nil
}

// release hands a message back without counting an attempt (shutdown).
func (q *Queue) release(ctx context.Context, j *job) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := q.db.Write(ctx, func(tx *gorm.DB) error { return q.lockLeaseTx(tx, j) })
	if err != nil && !errors.Is(err, errLeaseLost) {
		q.log.WarnContext(ctx, "queue: release lease", "queue_id", j.msg.ID, "err", err)
	}
}

// keepLease renews j's lease every third of its duration until stop is
// called. When the lease is lost (the message was deleted, or this process
// stalled past the lease) it cancels the attempt.
func (q *Queue) keepLease(ctx context.Context, j *job, cancel context.CancelFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(q.opts.LeaseDuration / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var n int64
			err := q.db.Write(ctx, func(tx *gorm.DB) error {
				res := tx.Model(&messageRow{}).Where("id = ? AND lease_owner = ?", j.msg.ID, j.token).
					Update("lease_until", q.clock().Add(q.opts.LeaseDuration))
				n = res.RowsAffected
				return res.Error
			})
			if err != nil {
				if ctx.Err() == nil {
					q.log.WarnContext(ctx, "queue: renew lease", "queue_id", j.msg.ID, "err", err)
				}
				continue
			}
			if n == 0 {
				q.log.WarnContext(ctx, "queue: lease lost; attempt stopped", "queue_id", j.msg.ID)
				cancel()
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
