package tenants

import (
	"context"
	"fmt"
	"net"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/tenants/address"
)

// LoginSeen is where a mailbox logged in from: one row per protocol and
// address, with its first and last time and how many logins.
type LoginSeen struct {
	MailboxID  int64  `gorm:"primaryKey;autoIncrement:false"`
	Protocol   string `gorm:"primaryKey"`
	RemoteAddr string `gorm:"primaryKey"`
	FirstAt    time.Time
	LastAt     time.Time
	Logins     int64
}

// TableName is gorm's table name.
func (LoginSeen) TableName() string { return "login_seen" }

// loginSeenKeep is how long an address unseen is remembered.
const loginSeenKeep = 30 * 24 * time.Hour

// maxLoginsSeen bounds the rows a user's page lists.
const maxLoginsSeen = 100

// protocolName is how the login kind is listed ("panel" for the panel and
// webmail, "mail" for a MailboxLogin that names no protocol).
func (k LoginKind) protocolName() string {
	if p := k.protocol(); p != "" {
		return string(p)
	}
	if k == PanelLogin {
		return "panel"
	}
	return "mail"
}

// seeLogin records a mailbox's login in tx: an upsert of its row (so the
// table grows with addresses, not logins) and the removal of the
// mailbox's rows unseen for loginSeenKeep.
func (s *Service) seeLogin(tx *gorm.DB, mailboxID int64, kind LoginKind, remote string, now time.Time) error {
	ip := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		ip = h
	}
	row := LoginSeen{MailboxID: mailboxID, Protocol: kind.protocolName(), RemoteAddr: ip, FirstAt: now, LastAt: now, Logins: 1}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "mailbox_id"}, {Name: "protocol"}, {Name: "remote_addr"}},
		DoUpdates: clause.Assignments(map[string]any{"last_at": now, "logins": gorm.Expr("login_seen.logins + 1")}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	if err := tx.Where("mailbox_id = ? AND last_at < ?", mailboxID, now.Add(-loginSeenKeep)).Delete(&LoginSeen{}).Error; err != nil {
		return fmt.Errorf("forget old logins: %w", err)
	}
	return nil
}

// RecentLogins lists where the mailbox logged in from lately, newest
// first.
func (s *Service) RecentLogins(ctx context.Context, sc Scope, a address.Address) ([]LoginSeen, error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return nil, err
	}
	var out []LoginSeen
	if err := db.Where("mailbox_id = ? AND last_at >= ?", m.ID, s.clock().Add(-loginSeenKeep)).Order("last_at DESC").Limit(maxLoginsSeen).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list logins: %w", err)
	}
	return out, nil
}

// EndProtocolSessions ends the mailbox's open IMAP, POP3 and SMTP
// sessions, in every process, within a SessionWatch interval. Mail
// programs may log in again: to shut one out, revoke its app password or
// change the password.
func (s *Service) EndProtocolSessions(ctx context.Context, sc Scope, a address.Address) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		if err := tx.Model(&Mailbox{}).Where("id = ?", m.ID).Update("sessions_ended_at", s.clock()).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return s.audit(tx, sc, &m.DomainID, "mailbox.sessions.end", "%s", a)
	})
}
