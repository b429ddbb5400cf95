package smtpd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants"
)

// RateLimits are the submission limits, in recipients (a message to ten
// people counts ten) per sliding hour and day, per mailbox and per domain,
// so that a hijacked account can't spray mail. Zero fields take the
// defaults; a negative one means no limit.
type RateLimits struct {
	MailboxPerHour int64 // default 200
	MailboxPerDay  int64 // default 1000
	DomainPerHour  int64 // default 2000
	DomainPerDay   int64 // default 10000
}

func (l *RateLimits) defaults() {
	for _, f := range []struct {
		v   *int64
		def int64
	}{{&l.MailboxPerHour, 200}, {&l.MailboxPerDay, 1000}, {&l.DomainPerHour, 2000}, {&l.DomainPerDay, 10000}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
}

// submissionRow is a row of submission_log (migration 0011): one accepted
// submission. The counts live in the database so that every process
// sharing it enforces the same limits.
type submissionRow struct {
	ID        int64
	MailboxID int64
	DomainID  int64
	Rcpts     int64
	At        time.Time
}

func (submissionRow) TableName() string { return "submission_log" }

const auditRateLimit = "submission.rate_limit"

// checkRate refuses a recipient that would take the login's mailbox or
// domain past a limit: 451 4.7.1, a warning in the log, and once an hour
// per mailbox an entry in the audit log, which the domain's postmaster and
// the administrators see in the panel. pending counts this transaction's
// recipients so far, this one included.
func (s *Server) checkRate(ctx context.Context, log *slog.Logger, login *tenants.Login, remote string, pending int64) error {
	now := s.now().UTC()
	hour, day := now.Add(-time.Hour), now.Add(-24*time.Hour)
	type sums struct{ Hour, Day int64 }
	count := func(col string, id int64) (sums, error) {
		var r sums
		err := s.db.Read(ctx).Model(&submissionRow{}).
			Select("COALESCE(SUM(CASE WHEN at > ? THEN rcpts ELSE 0 END),0) AS hour, COALESCE(SUM(rcpts),0) AS day", hour).
			Where(col+" = ? AND at > ?", id, day).Scan(&r).Error
		return r, err
	}
	mb, err := count("mailbox_id", login.Mailbox.ID)
	if err != nil {
		log.Warn("read submission counts", "err", err)
		return errTempFailure
	}
	dm, err := count("domain_id", login.Mailbox.DomainID)
	if err != nil {
		log.Warn("read submission counts", "err", err)
		return errTempFailure
	}
	l := s.cfg.Limits
	var which string
	switch {
	case l.MailboxPerHour > 0 && mb.Hour+pending > l.MailboxPerHour:
		which = fmt.Sprintf("mailbox hourly limit %d", l.MailboxPerHour)
	case l.MailboxPerDay > 0 && mb.Day+pending > l.MailboxPerDay:
		which = fmt.Sprintf("mailbox daily limit %d", l.MailboxPerDay)
	case l.DomainPerHour > 0 && dm.Hour+pending > l.DomainPerHour:
		which = fmt.Sprintf("domain hourly limit %d", l.DomainPerHour)
	case l.DomainPerDay > 0 && dm.Day+pending > l.DomainPerDay:
		which = fmt.Sprintf("domain daily limit %d", l.DomainPerDay)
	default:
		return nil
	}
	who := login.Address.String()
	log.Warn("submission rate limit reached", "limit", which, "mailbox_hour", mb.Hour, "mailbox_day", mb.Day,
		"domain_hour", dm.Hour, "domain_day", dm.Day)
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&tenants.AuditEntry{}).Where("action = ? AND actor = ? AND at > ?", auditRateLimit, who, hour).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return tx.Create(&tenants.AuditEntry{At: now, Actor: who, RemoteAddr: remote, DomainID: &login.Mailbox.DomainID,
			Action: auditRateLimit, Detail: fmt.Sprintf("%s reached the %s; further mail refused with 451 4.7.1", who, which)}).Error
	})
	if err != nil {
		log.Warn("write rate limit audit entry", "err", err)
	}
	return errRateLimited
}

// recordSubmission counts an accepted submission, in the delivery's
// transaction, and forgets the mailbox's rows older than a day.
func (s *Server) recordSubmission(tx *gorm.DB, login *tenants.Login, rcpts int64) error {
	now := s.now().UTC()
	if err := tx.Where("mailbox_id = ? AND at < ?", login.Mailbox.ID, now.Add(-25*time.Hour)).Delete(&submissionRow{}).Error; err != nil {
		return fmt.Errorf("prune submission log: %w", err)
	}
	row := submissionRow{MailboxID: login.Mailbox.ID, DomainID: login.Mailbox.DomainID, Rcpts: rcpts, At: now}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("record submission: %w", err)
	}
	return nil
}
