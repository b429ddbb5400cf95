package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/queueadmin"
)

// QueueMessages lists queued messages, oldest first, with their recipients,
// attempts and last errors, and the total matching.
func (q *Queue) QueueMessages(ctx context.Context, sc tenants.Scope, in queueadmin.QueueQuery) ([]queueadmin.Message, int64, error) {
	scope, err := sc.DomainRows("domain_id")
	if err != nil {
		return nil, 0, err
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	db := q.db.Read(ctx).Model(&messageRow{}).Scopes(scope)
	if s := strings.TrimSpace(in.Search); s != "" {
		pat := database.Contains(s)
		db = db.Where(`(LOWER(mail_from) LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM queue_recipients r
			WHERE r.message_id = queue_messages.id AND LOWER(r.rcpt) LIKE ? ESCAPE '\'))`, pat, pat)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count queue: %w", err)
	}
	var rows []messageRow
	if err := db.Order("created_at, id").Limit(limit).Offset(max(in.Offset, 0)).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("list queue: %w", err)
	}
	out, err := q.describe(ctx, rows)
	return out, total, err
}

// QueueMessage returns one queued message.
func (q *Queue) QueueMessage(ctx context.Context, sc tenants.Scope, id int64) (*queueadmin.Message, error) {
	scope, err := sc.DomainRows("domain_id")
	if err != nil {
		return nil, err
	}
	var rows []messageRow
	if err := q.db.Read(ctx).Scopes(scope).Where("id = ?", id).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read queued message: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("queued message %d: %w", id, tenants.ErrNotFound)
	}
	out, err := q.describe(ctx, rows)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// describe turns message rows into the listing's values.
func (q *Queue) describe(ctx context.Context, rows []messageRow) ([]queueadmin.Message, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	st, err := q.current(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	keys := make([]string, len(rows))
	for i, m := range rows {
		ids[i], keys[i] = m.ID, m.BlobKey
	}
	db := q.db.Read(ctx)
	var rcpts []rcptRow
	if err := db.Where("message_id IN ?", ids).Order("id").Find(&rcpts).Error; err != nil {
		return nil, fmt.Errorf("list queued recipients: %w", err)
	}
	var blobs []store.BlobRow
	if err := db.Select("blob_key", "subject").Where("blob_key IN ?", keys).Find(&blobs).Error; err != nil {
		return nil, fmt.Errorf("read subjects: %w", err)
	}
	subject := map[string]string{}
	for _, b := range blobs {
		subject[b.BlobKey] = b.Subject
	}
	byMsg := map[int64][]queueadmin.Recipient{}
	for _, r := range rcpts {
		byMsg[r.MessageID] = append(byMsg[r.MessageID], queueadmin.Recipient{
			Address: r.Rcpt, Local: r.IsLocal, Attempts: int(r.Attempts), NextAttempt: r.NextAttemptAt,
			LastAttempt: r.LastAttemptAt, LastError: r.LastError, RemoteHost: r.RemoteHost, RemoteReply: r.RemoteReply,
		})
	}
	now := q.clock()
	out := make([]queueadmin.Message, len(rows))
	for i, m := range rows {
		out[i] = queueadmin.Message{
			ID: m.ID, Kind: m.Kind, From: m.MailFrom, Subject: subject[m.BlobKey], Size: m.Size, Created: m.CreatedAt,
			Expires: m.CreatedAt.Add(st.Lifetime), NextAttempt: m.NextAttemptAt,
			Sending: m.LeaseUntil != nil && m.LeaseUntil.After(now), Recipients: byMsg[m.ID],
		}
	}
	return out, nil
}

// RetryNow makes all recipients of a queued message due at once.
func (q *Queue) RetryNow(ctx context.Context, sc tenants.Scope, id int64) error {
	scope, err := sc.DomainRows("domain_id")
	if err != nil {
		return err
	}
	now := q.clock()
	err = q.db.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&messageRow{}).Scopes(scope).Where("id = ?", id).Update("next_attempt_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("queued message %d: %w", id, tenants.ErrNotFound)
		}
		if err := tx.Model(&rcptRow{}).Where("message_id = ?", id).Update("next_attempt_at", now).Error; err != nil {
			return err
		}
		return q.auditMessageTx(tx, sc, scope, id, "queue.retry")
	})
	if err != nil {
		if errors.Is(err, tenants.ErrNotFound) {
			return err
		}
		return fmt.Errorf("retry queued message: %w", err)
	}
	q.log.InfoContext(ctx, "queue: retry now", "queue_id", id, "actor", sc.Actor)
	q.Kick()
	return nil
}

// DeleteQueued removes a message from the queue without returning it; an
// attempt in flight is stopped when it next renews its lease, and its
// outcome is not recorded.
func (q *Queue) DeleteQueued(ctx context.Context, sc tenants.Scope, id int64) error {
	scope, err := sc.DomainRows("domain_id")
	if err != nil {
		return err
	}
	var n int64
	err = q.db.Write(ctx, func(tx *gorm.DB) error {
		if err := q.auditMessageTx(tx, sc, scope, id, "queue.delete"); err != nil {
			return err
		}
		if err := tx.Where("message_id IN (?)", tx.Model(&messageRow{}).Scopes(scope).Select("id").Where("id = ?", id)).
			Delete(&rcptRow{}).Error; err != nil {
			return err
		}
		res := tx.Scopes(scope).Where("id = ?", id).Delete(&messageRow{})
		n = res.RowsAffected
		return res.Error
	})
	if errors.Is(err, tenants.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("delete queued message: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("queued message %d: %w", id, tenants.ErrNotFound)
	}
	q.log.InfoContext(ctx, "queue: message deleted", "queue_id", id, "actor", sc.Actor)
	return nil
}

// Failures lists the recipients the queue gave up on, newest first, with
// the total.
func (q *Queue) Failures(ctx context.Context, sc tenants.Scope, limit, offset int) ([]queueadmin.Failure, int64, error) {
	scope, err := sc.DomainRows("domain_id")
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	db := q.db.Read(ctx).Model(&failureRow{}).Scopes(scope)
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count failures: %w", err)
	}
	var rows []failureRow
	if err := db.Order("failed_at DESC, id DESC").Limit(limit).Offset(max(offset, 0)).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("list failures: %w", err)
	}
	out := make([]queueadmin.Failure, len(rows))
	for i, f := range rows {
		out[i] = queueadmin.Failure{ID: f.ID, QueueID: f.QueueID, Kind: f.Kind, From: f.MailFrom, Recipient: f.Rcpt, Subject: f.Subject,
			Error: f.Error, RemoteHost: f.RemoteHost, Attempts: int(f.Attempts), FailedAt: f.FailedAt, Reported: f.ReportedAt != nil}
	}
	return out, total, nil
}

// SendFailureReport sends the delivery failure report now, whatever the
// schedule, even when nothing failed.
func (q *Queue) SendFailureReport(ctx context.Context, sc tenants.Scope) error {
	if err := allowed(sc); err != nil {
		return err
	}
	q.forgetSettings()
	_, err := q.report(ctx, true)
	return err
}
