package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/tenants/address"
)

// Responder limits.
const (
	MaxResponderSubject = 200
	MaxResponderBody    = 64 << 10
	DefaultReplyDays    = 7
)

// ResponderInput is what a user or postmaster sets.
type ResponderInput struct {
	Enabled      bool
	Subject      string
	Body         string
	StartsAt     *time.Time
	EndsAt       *time.Time
	IntervalDays int64 // 0: DefaultReplyDays
}

// Responder returns a mailbox's responder; a mailbox that never had one
// gets a disabled one.
func (s *Service) Responder(ctx context.Context, sc Scope, a address.Address) (*Responder, error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return nil, err
	}
	var r Responder
	err = db.Where("mailbox_id = ?", m.ID).Take(&r).Error
	if notFound(err) {
		return &Responder{MailboxID: m.ID, IntervalDays: DefaultReplyDays}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read responder: %w", err)
	}
	return &r, nil
}

// SetResponder sets a mailbox's responder.
func (s *Service) SetResponder(ctx context.Context, sc Scope, a address.Address, in ResponderInput) error {
	in, err := checkResponder(in, s.clock())
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		return s.setResponderTx(tx, sc, a, in)
	})
}

// checkResponder checks a responder as given at now, with its defaults
// filled.
func checkResponder(in ResponderInput, now time.Time) (ResponderInput, error) {
	if err := checkText("subject", in.Subject, MaxResponderSubject); err != nil {
		return in, err
	}
	if err := checkBody("body", in.Body, MaxResponderBody); err != nil {
		return in, err
	}
	if in.Enabled && strings.TrimSpace(in.Subject) == "" {
		return in, invalid("subject", "a responder needs a subject")
	}
	if in.Enabled && strings.TrimSpace(in.Body) == "" {
		return in, invalid("body", "a responder needs a text")
	}
	if in.StartsAt != nil && in.EndsAt != nil && !in.EndsAt.After(*in.StartsAt) {
		return in, invalid("end", "the end must be after the start")
	}
	if in.Enabled && in.EndsAt != nil && !in.EndsAt.After(now) {
		return in, invalid("end", "this end has already passed, so the responder would never answer: give a later date, or leave it off")
	}
	if in.IntervalDays == 0 {
		in.IntervalDays = DefaultReplyDays
	}
	if in.IntervalDays < 1 || in.IntervalDays > 365 {
		return in, invalid("interval_days", "between 1 and 365 days")
	}
	return in, nil
}

// setResponderTx is SetResponder's change in tx, after checkResponder.
func (s *Service) setResponderTx(tx *gorm.DB, sc Scope, a address.Address, in ResponderInput) error {
	m, err := s.mailboxTx(tx, sc, a)
	if err != nil {
		return err
	}
	if sc.Role == RoleUser && !m.MayResponder {
		return fmt.Errorf("this mailbox may not set its own responder: %w", ErrForbidden)
	}
	r := Responder{MailboxID: m.ID, Enabled: in.Enabled, Subject: in.Subject, Body: in.Body,
		StartsAt: utcPtr(in.StartsAt), EndsAt: utcPtr(in.EndsAt), IntervalDays: in.IntervalDays, UpdatedAt: s.clock()}
	if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&r).Error; err != nil {
		return fmt.Errorf("save responder: %w", err)
	}
	// A new text answers everyone again.
	if err := tx.Where("mailbox_id = ?", m.ID).Delete(&responderReply{}).Error; err != nil {
		return fmt.Errorf("reset responder replies: %w", err)
	}
	return s.audit(tx, sc, &m.DomainID, "responder.set", "%s: enabled=%t", a, in.Enabled)
}

// DisableResponder turns a mailbox's responder off, keeping its text.
func (s *Service) DisableResponder(ctx context.Context, sc Scope, a address.Address) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		if sc.Role == RoleUser && !m.MayResponder {
			return fmt.Errorf("this mailbox may not set its own responder: %w", ErrForbidden)
		}
		if err := tx.Model(&Responder{}).Where("mailbox_id = ?", m.ID).Updates(map[string]any{"enabled": false, "updated_at": s.clock()}).Error; err != nil {
			return fmt.Errorf("disable responder: %w", err)
		}
		return s.audit(tx, sc, &m.DomainID, "responder.off", "%s", a)
	})
}

// MaxResponderRepliesPerHour bounds the replies one mailbox's responder
// sends in an hour, so that mail from many (forged) senders can't turn it
// into a reflector.
const MaxResponderRepliesPerHour = 50

// ErrResponderLimit: the responder has sent MaxResponderRepliesPerHour
// replies in the last hour and stays silent for now.
var ErrResponderLimit = errors.New("responder reply limit reached")

// ClaimResponderReply reports whether the responder of mailbox may answer
// sender now, and if so records the answer, atomically: at most one reply
// per sender per interval (RFC 3834 section 2), also across processes, and
// at most MaxResponderRepliesPerHour replies an hour (ErrResponderLimit).
// Claims older than the interval are forgotten on the way.
func (s *Service) ClaimResponderReply(ctx context.Context, mailboxID int64, sender address.Address, intervalDays int64) (bool, error) {
	now := s.clock()
	cutoff := now.Add(-time.Duration(intervalDays) * 24 * time.Hour)
	claimed := false
	limited := false
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		claimed, limited = false, false
		if err := tx.Where("mailbox_id = ? AND sent_at <= ?", mailboxID, cutoff).Delete(&responderReply{}).Error; err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		// Every reply of the last hour is a row: one per sender, and the
		// interval is at least a day.
		var n int64
		if err := tx.Model(&responderReply{}).Where("mailbox_id = ? AND sent_at > ?", mailboxID, now.Add(-time.Hour)).Count(&n).Error; err != nil {
			return fmt.Errorf("count replies: %w", err)
		}
		if n >= MaxResponderRepliesPerHour {
			limited = true
			return nil
		}
		// Insert-or-nothing first, so that concurrent first replies to one
		// sender can't both win; then take an expired claim over.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&responderReply{MailboxID: mailboxID, Sender: sender.String(), SentAt: now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			claimed = true
			return nil
		}
		res = tx.Model(&responderReply{}).Where("mailbox_id = ? AND sender = ? AND sent_at <= ?", mailboxID, sender.String(), cutoff).
			Update("sent_at", now)
		if res.Error != nil {
			return res.Error
		}
		claimed = res.RowsAffected == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record responder reply: %w", err)
	}
	if limited {
		return false, ErrResponderLimit
	}
	return claimed, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
