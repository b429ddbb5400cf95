package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// RateLimits are the send limits, in recipients (a message to ten people
// counts ten) per sliding hour and day, per mailbox and per domain, so that
// a hijacked account can't spray mail. Submissions (SMTP AUTH, webmail),
// each mailbox's forwards to other servers, its responder's replies to
// other servers and the bounces returned through its SRS addresses count
// against them alike.
// Zero fields take the defaults; a negative one means no limit.
type RateLimits struct {
	MailboxPerHour int64 // default 200
	MailboxPerDay  int64 // default 1000
	DomainPerHour  int64 // default 2000
	DomainPerDay   int64 // default 10000
}

// WithDefaults returns l with its zero fields set to the defaults.
func (l RateLimits) WithDefaults() RateLimits {
	for _, f := range []struct {
		v   *int64
		def int64
	}{{&l.MailboxPerHour, 200}, {&l.MailboxPerDay, 1000}, {&l.DomainPerHour, 2000}, {&l.DomainPerDay, 10000}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	return l
}

// ErrRateLimited: a send would take a mailbox or its domain past a limit.
var ErrRateLimited = errors.New("sending rate limit reached")

// RateAccount is what a send counts against: a mailbox and its domain.
type RateAccount struct {
	MailboxID int64
	DomainID  int64
	Address   address.Address // the mailbox, for logs and the audit log
}

// LoginAccount is the account of a mailbox login.
func LoginAccount(login *tenants.Login) RateAccount {
	return RateAccount{MailboxID: login.Mailbox.ID, DomainID: login.Mailbox.DomainID, Address: login.Address}
}

// submissionRow is a row of submission_log (migration 0011): one accepted
// send. The counts live in the database so that every process sharing it
// enforces the same limits.
type submissionRow struct {
	ID        int64
	MailboxID int64
	DomainID  int64
	Rcpts     int64
	At        time.Time
}

func (submissionRow) TableName() string { return "submission_log" }

// Audit actions of a limit reached.
const (
	auditSubmissionLimit = "submission.rate_limit"
	auditForwardLimit    = "forward.rate_limit"
	auditResponderLimit  = "responder.rate_limit"
)

// Limiter keeps the send limits in table submission_log: the one limiter
// of the SMTP server's submission, webmail's and remote forwards.
type Limiter struct {
	db     *database.DB
	limits RateLimits
	log    *slog.Logger
	now    func() time.Time
}

// NewLimiter returns a Limiter; zero limits take the defaults, a nil log
// discards, a nil now is time.Now.
func NewLimiter(db *database.DB, limits RateLimits, log *slog.Logger, now func() time.Time) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{db: db, limits: limits.WithDefaults(), log: log, now: now}
}

// Check refuses a submission of pending recipients (this transaction's so
// far, the new one included) that would take the account's mailbox or
// domain past a limit: an error wrapping ErrRateLimited, a warning in the
// log, and once an hour per mailbox an entry in the audit log, which the
// domain's postmaster and the administrators see in the panel. Other
// errors are database trouble.
func (l *Limiter) Check(ctx context.Context, log *slog.Logger, a RateAccount, remote string, pending int64) error {
	return l.check(ctx, log, a, remote, pending, pending, auditSubmissionLimit, "further mail refused with 451 4.7.1")
}

// check is Check with the pending counts of mailbox and domain apart (one
// message may forward from several mailboxes of a domain) and the audit
// entry's action and consequence.
func (l *Limiter) check(ctx context.Context, log *slog.Logger, a RateAccount, remote string, mbPending, domPending int64, action, consequence string) error {
	now := l.now().UTC()
	hour, day := now.Add(-time.Hour), now.Add(-24*time.Hour)
	type sums struct{ Hour, Day int64 }
	count := func(col string, id int64) (sums, error) {
		var r sums
		err := l.db.Read(ctx).Model(&submissionRow{}).
			Select("COALESCE(SUM(CASE WHEN at > ? THEN rcpts ELSE 0 END),0) AS hour, COALESCE(SUM(rcpts),0) AS day", hour).
			Where(col+" = ? AND at > ?", id, day).Scan(&r).Error
		return r, err
	}
	mb, err := count("mailbox_id", a.MailboxID)
	if err != nil {
		return fmt.Errorf("read send counts: %w", err)
	}
	dm, err := count("domain_id", a.DomainID)
	if err != nil {
		return fmt.Errorf("read send counts: %w", err)
	}
	lim := l.limits
	var which string
	switch {
	case lim.MailboxPerHour > 0 && mb.Hour+mbPending > lim.MailboxPerHour:
		which = fmt.Sprintf("mailbox hourly limit %d", lim.MailboxPerHour)
	case lim.MailboxPerDay > 0 && mb.Day+mbPending > lim.MailboxPerDay:
		which = fmt.Sprintf("mailbox daily limit %d", lim.MailboxPerDay)
	case lim.DomainPerHour > 0 && dm.Hour+domPending > lim.DomainPerHour:
		which = fmt.Sprintf("domain hourly limit %d", lim.DomainPerHour)
	case lim.DomainPerDay > 0 && dm.Day+domPending > lim.DomainPerDay:
		which = fmt.Sprintf("domain daily limit %d", lim.DomainPerDay)
	default:
		return nil
	}
	who := a.Address.String()
	log.WarnContext(ctx, "send rate limit reached", "account", who, "action", action, "limit", which,
		"mailbox_hour", mb.Hour, "mailbox_day", mb.Day, "domain_hour", dm.Hour, "domain_day", dm.Day)
	err = l.db.Write(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&tenants.AuditEntry{}).Where("action = ? AND actor = ? AND at > ?", action, who, hour).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		domainID := a.DomainID
		return tx.Create(&tenants.AuditEntry{At: now, Actor: who, RemoteAddr: remote, DomainID: &domainID,
			Action: action, Detail: fmt.Sprintf("%s reached the %s; %s", who, which, consequence)}).Error
	})
	if err != nil {
		log.WarnContext(ctx, "write rate limit audit entry", "err", err)
	}
	return fmt.Errorf("%s: %s: %w", who, which, ErrRateLimited)
}

// Record counts an accepted send of rcpts recipients, in the delivery's
// transaction, and forgets the mailbox's rows older than a day.
func (l *Limiter) Record(t database.Tx, a RateAccount, rcpts int64) error {
	tx := t.Gorm()
	now := l.now().UTC()
	if err := tx.Where("mailbox_id = ? AND at < ?", a.MailboxID, now.Add(-25*time.Hour)).Delete(&submissionRow{}).Error; err != nil {
		return fmt.Errorf("prune submission log: %w", err)
	}
	row := submissionRow{MailboxID: a.MailboxID, DomainID: a.DomainID, Rcpts: rcpts, At: now}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("record submission: %w", err)
	}
	return nil
}

// Reserve is Record after checking the limits again inside the delivery's
// transaction: a submission is checked at RCPT but counted only when its
// DATA commits, so several connections in parallel would each pass the
// check and together go past the limit. It fails with an error wrapping
// ErrRateLimited, counting nothing, when the counts with this send
// included pass a limit. On PostgreSQL the account's domain row is locked
// first (FOR NO KEY UPDATE, which leaves the foreign-key checks of other
// writers alone), so that concurrent transactions of one domain, in this
// process or another, count one after the other; one lock serves both the
// mailbox and the domain limits. SQLite runs one writer at a time already.
func (l *Limiter) Reserve(t database.Tx, a RateAccount, rcpts int64) error {
	tx := t.Gorm()
	if l.db.Dialect() == database.Postgres {
		var id int64
		if err := tx.Raw("SELECT id FROM domains WHERE id = ? FOR NO KEY UPDATE", a.DomainID).Scan(&id).Error; err != nil {
			return fmt.Errorf("lock domain for send counts: %w", err)
		}
	}
	now := l.now().UTC()
	hour, day := now.Add(-time.Hour), now.Add(-24*time.Hour)
	lim := l.limits
	for _, c := range []struct {
		name, col       string
		id              int64
		perHour, perDay int64
	}{{"mailbox", "mailbox_id", a.MailboxID, lim.MailboxPerHour, lim.MailboxPerDay}, {"domain", "domain_id", a.DomainID, lim.DomainPerHour, lim.DomainPerDay}} {
		var r struct{ Hour, Day int64 }
		err := tx.Model(&submissionRow{}).
			Select("COALESCE(SUM(CASE WHEN at > ? THEN rcpts ELSE 0 END),0) AS hour, COALESCE(SUM(rcpts),0) AS day", hour).
			Where(c.col+" = ? AND at > ?", c.id, day).Scan(&r).Error
		if err != nil {
			return fmt.Errorf("read send counts: %w", err)
		}
		if (c.perHour > 0 && r.Hour+rcpts > c.perHour) || (c.perDay > 0 && r.Day+rcpts > c.perDay) {
			l.log.Warn("send rate limit reached at commit", "account", a.Address.String(), "limit", c.name,
				"hour", r.Hour, "day", r.Day, "rcpts", rcpts)
			return fmt.Errorf("%s: %s limit at commit: %w", a.Address.String(), c.name, ErrRateLimited)
		}
	}
	return l.Record(t, a, rcpts)
}

// srsBounceRow is a row of srs_bounces (migration 0045): one bounce sent
// on through an SRS address, for SRSBouncesPerDay.
type srsBounceRow struct {
	ID        int64
	MailboxID int64
	Address   string
	At        time.Time
}

func (srsBounceRow) TableName() string { return "srs_bounces" }

// auditBounceLimit is the audit action of a bounce refused by the limits.
const auditBounceLimit = "srs.rate_limit"

// CheckBounce refuses, before the message, a bounce through the SRS
// address srsAddr that would take the forwarding mailbox a past its send
// limits, or the address past SRSBouncesPerDay: an error wrapping
// ErrRateLimited. Other errors are database trouble.
func (l *Limiter) CheckBounce(ctx context.Context, log *slog.Logger, a RateAccount, srsAddr string) error {
	var n int64
	err := l.db.Read(ctx).Model(&srsBounceRow{}).Where("address = ? AND at > ?", srsAddr, l.now().UTC().Add(-24*time.Hour)).Count(&n).Error
	if err != nil {
		return fmt.Errorf("read bounce counts: %w", err)
	}
	if n >= SRSBouncesPerDay {
		log.WarnContext(ctx, "SRS address bounce cap reached", "srs", srsAddr, "bounces", n, "cap", SRSBouncesPerDay)
		return fmt.Errorf("%s: %d bounces a day: %w", srsAddr, SRSBouncesPerDay, ErrRateLimited)
	}
	return l.check(ctx, log, a, "", 1, 1, auditBounceLimit, "bounces to its SRS addresses refused with 451 4.7.1")
}

// ReserveBounce counts a bounce through the SRS address srsAddr, in the
// delivery's transaction: one send of the forwarding mailbox a (Reserve,
// which checks its limits again and orders concurrent transactions of the
// domain) and one of the address, refused with an error wrapping
// ErrRateLimited past SRSBouncesPerDay.
func (l *Limiter) ReserveBounce(t database.Tx, a RateAccount, srsAddr string) error {
	tx := t.Gorm()
	if err := l.Reserve(t, a, 1); err != nil {
		return err
	}
	now := l.now().UTC()
	var n int64
	if err := tx.Model(&srsBounceRow{}).Where("address = ? AND at > ?", srsAddr, now.Add(-24*time.Hour)).Count(&n).Error; err != nil {
		return fmt.Errorf("read bounce counts: %w", err)
	}
	if n >= SRSBouncesPerDay {
		return fmt.Errorf("%s: %d bounces a day, at commit: %w", srsAddr, SRSBouncesPerDay, ErrRateLimited)
	}
	if err := tx.Where("mailbox_id = ? AND at < ?", a.MailboxID, now.Add(-25*time.Hour)).Delete(&srsBounceRow{}).Error; err != nil {
		return fmt.Errorf("prune bounce log: %w", err)
	}
	if err := tx.Create(&srsBounceRow{MailboxID: a.MailboxID, Address: srsAddr, At: now}).Error; err != nil {
		return fmt.Errorf("record bounce: %w", err)
	}
	return nil
}
