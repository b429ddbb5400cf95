// Package retention is the message expiry job (Mailtraq's Message
// Expiry): it removes the messages older than their folder's retention
// (tenants.RetentionPlan: a domain's defaults, a mailbox's own rules) in
// bounded batches through the store, so a folder of a million old messages
// costs many short transactions, not one long one. Several processes
// share the database: a lease row (retention_job, migration 0069), taken
// as the outbound queue takes its messages, lets one of them run it at a
// time. Every run that removed something, or failed, leaves one audit
// entry.
package retention

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
)

// Expirer removes a folder's messages older than before, at most limit
// (*store.Store does).
type Expirer interface {
	ExpireOlder(ctx context.Context, mailboxID int64, folder string, before time.Time, limit int) (int, error)
}

// Job is the expiry job.
type Job struct {
	Tenants *tenants.Service
	Store   Expirer
	Log     *slog.Logger
	Now     func() time.Time // nil: time.Now
	// Interval is the time between runs (0: an hour).
	Interval time.Duration
	// Batch bounds the messages one transaction removes (0: 500);
	// MaxPerRun those of one run (0: 100,000), the rest waits for the
	// next run.
	Batch, MaxPerRun int
	// Lease is how long a run holds the job before another process may
	// take it (0: 10 minutes); a run renews it between batches.
	Lease time.Duration
}

// jobRow is the job's lease.
type jobRow struct {
	Name       string `gorm:"primaryKey"`
	LeaseOwner string
	LeaseUntil *time.Time
	LastRunAt  *time.Time
}

func (jobRow) TableName() string { return "retention_job" }

const jobName = "expire"

// Result is what one run did.
type Result struct {
	Removed int
	Folders int // folders with a retention looked at
	Capped  bool
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now().UTC()
	}
	return time.Now().UTC()
}

func (j *Job) db() *database.DB { return j.Tenants.DB() }

// Run runs the job every Interval until ctx ends.
func (j *Job) Run(ctx context.Context) {
	every := j.Interval
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.Log.WarnContext(ctx, "message expiry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce runs the job once if no other process holds it; ran says
// whether it did.
func (j *Job) RunOnce(ctx context.Context) (res Result, ran bool, err error) {
	owner, err := j.take(ctx)
	if err != nil || owner == "" {
		return res, false, err
	}
	defer j.release(owner)
	res, err = j.expire(ctx, owner)
	if res.Removed > 0 || err != nil {
		detail := fmt.Sprintf("removed %d messages, %d folders with a retention", res.Removed, res.Folders)
		if res.Capped {
			detail += "; stopped at the run's limit"
		}
		if err != nil {
			detail += "; stopped: " + err.Error()
		}
		// A background context: a run cut short by shutdown is still
		// recorded.
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if aerr := j.Tenants.RecordAudit(actx, tenants.SystemScope("message expiry"), nil, "retention.run", detail); aerr != nil && err == nil {
			err = aerr
		}
	}
	return res, true, err
}

func (j *Job) expire(ctx context.Context, owner string) (Result, error) {
	var res Result
	batch, maxRun := j.Batch, j.MaxPerRun
	if batch <= 0 {
		batch = 500
	}
	if maxRun <= 0 {
		maxRun = 100_000
	}
	now := j.now()
	for after := int64(0); ; {
		plan, next, err := j.Tenants.RetentionPlan(ctx, after, 200)
		if err != nil {
			return res, err
		}
		for _, fr := range plan {
			res.Folders++
			before := now.Add(-time.Duration(fr.Days) * 24 * time.Hour)
			for {
				if err := ctx.Err(); err != nil {
					return res, err
				}
				if res.Removed >= maxRun {
					res.Capped = true
					return res, nil
				}
				n, err := j.Store.ExpireOlder(ctx, fr.MailboxID, fr.Folder, before, min(batch, maxRun-res.Removed))
				if err != nil {
					return res, err
				}
				res.Removed += n
				if n < batch {
					break
				}
				if err := j.renew(ctx, owner); err != nil {
					return res, err
				}
			}
		}
		if next == 0 {
			return res, nil
		}
		after = next
	}
}

func (j *Job) leaseFor() time.Duration {
	if j.Lease > 0 {
		return j.Lease
	}
	return 10 * time.Minute
}

// take takes the lease when it is free or ran out, by an UPDATE whose
// WHERE repeats the condition, so two processes can't both take it. It
// returns the owner token, "" when another process holds it.
func (j *Job) take(ctx context.Context) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	owner := hex.EncodeToString(b[:])
	now := j.now()
	var got int64
	err := j.db().Write(ctx, func(tx *gorm.DB) error {
		r := tx.Model(&jobRow{}).Where("name = ? AND (lease_until IS NULL OR lease_until <= ?)", jobName, now).
			Updates(map[string]any{"lease_owner": owner, "lease_until": now.Add(j.leaseFor()), "last_run_at": now})
		got = r.RowsAffected
		return r.Error
	})
	if err != nil {
		return "", fmt.Errorf("take the expiry lease: %w", err)
	}
	if got == 0 {
		return "", nil
	}
	return owner, nil
}

// renew extends the lease; a lease another process took meanwhile (this
// one ran out) stops the run.
func (j *Job) renew(ctx context.Context, owner string) error {
	var got int64
	err := j.db().Write(ctx, func(tx *gorm.DB) error {
		r := tx.Model(&jobRow{}).Where("name = ? AND lease_owner = ?", jobName, owner).Update("lease_until", j.now().Add(j.leaseFor()))
		got = r.RowsAffected
		return r.Error
	})
	if err != nil {
		return fmt.Errorf("renew the expiry lease: %w", err)
	}
	if got == 0 {
		return fmt.Errorf("the expiry lease was lost")
	}
	return nil
}

// release gives the lease back, on its own context (ctx may have ended).
func (j *Job) release(owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := j.db().Write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&jobRow{}).Where("name = ? AND lease_owner = ?", jobName, owner).
			Updates(map[string]any{"lease_owner": "", "lease_until": nil}).Error
	})
	if err != nil {
		j.Log.Warn("release the expiry lease", "err", err)
	}
}
