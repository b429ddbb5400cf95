package pop3d

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// lockRow is a mailbox's POP3 lease (migrations/0031_pop3.sql).
type lockRow struct {
	MailboxID int64 `gorm:"primaryKey;autoIncrement:false"`
	Holder    string
	ExpiresAt time.Time
}

func (lockRow) TableName() string { return "pop3_locks" }

func newHolder() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lock takes the mailbox's lease for holder; it reports false when another
// session holds a lease that has not lapsed.
func (s *Server) lock(ctx context.Context, mailboxID int64, holder string) (bool, error) {
	now := s.cfg.Now().UTC()
	got := false
	err := s.cfg.Store.DB().Write(ctx, func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&lockRow{MailboxID: mailboxID, Holder: holder, ExpiresAt: now.Add(s.cfg.LockTTL)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			got = true
			return nil
		}
		// Someone holds it: take it over only if the lease lapsed (a
		// crashed process).
		res = tx.Model(&lockRow{}).Where("mailbox_id = ? AND expires_at < ?", mailboxID, now).
			Updates(map[string]any{"holder": holder, "expires_at": now.Add(s.cfg.LockTTL)})
		got = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("lock mailbox: %w", err)
	}
	return got, nil
}

// renew extends the lease; it reports false if it was lost.
func (s *Server) renew(ctx context.Context, mailboxID int64, holder string) (bool, error) {
	var n int64
	err := s.cfg.Store.DB().Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&lockRow{}).Where("mailbox_id = ? AND holder = ?", mailboxID, holder).
			Update("expires_at", s.cfg.Now().UTC().Add(s.cfg.LockTTL))
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("renew mailbox lock: %w", err)
	}
	return n == 1, nil
}

// unlock gives the lease up.
func (s *Server) unlock(ctx context.Context, mailboxID int64, holder string) error {
	err := s.cfg.Store.DB().Write(ctx, func(tx *gorm.DB) error {
		return tx.Where("mailbox_id = ? AND holder = ?", mailboxID, holder).Delete(&lockRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("unlock mailbox: %w", err)
	}
	return nil
}
