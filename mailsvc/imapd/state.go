package imapd

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// IMAP's own tables (migrations/0032_imap.sql): \Recent and subscriptions.

type recentRow struct {
	FolderID int64  `gorm:"primaryKey;autoIncrement:false"`
	FirstUID uint32 `gorm:"column:first_uid"`
}

func (recentRow) TableName() string { return "imap_recent" }

type subscriptionRow struct {
	MailboxID int64  `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"primaryKey"`
}

func (subscriptionRow) TableName() string { return "imap_subscriptions" }

// claimRecent makes the messages of a folder with UIDs from the folder's
// first recent UID up to (not including) upto recent for the caller, and
// nobody else, in this process or another: it returns the first UID
// claimed (upto when there is none).
func (s *Session) claimRecent(folderID int64, upto uint32) (uint32, error) {
	return claimRecent(s.srv, folderID, upto)
}

func claimRecent(srv *Server, folderID int64, upto uint32) (uint32, error) {
	from := upto
	err := srv.cfg.Store.DB().Write(srv.ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&recentRow{FolderID: folderID, FirstUID: 1}).Error; err != nil {
			return err
		}
		var r recentRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("folder_id = ?", folderID).Take(&r).Error; err != nil {
			return err
		}
		if r.FirstUID >= upto {
			return nil
		}
		from = r.FirstUID
		return tx.Model(&recentRow{}).Where("folder_id = ?", folderID).Update("first_uid", upto).Error
	})
	if err != nil {
		return upto, fmt.Errorf("claim recent messages: %w", err)
	}
	return from, nil
}

// peekRecent returns a folder's first recent UID without claiming.
func (s *Session) peekRecent(folderID int64) (uint32, error) {
	var r recentRow
	err := s.st.DB().Read(s.ctx).Where("folder_id = ?", folderID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read recent: %w", err)
	}
	return r.FirstUID, nil
}

// subscriptions returns the subscribed names that are kept apart from
// folders: subscriptions made with SUBSCRIBE, which outlive their folder.
func (s *Session) subscriptions() (map[string]bool, error) {
	var names []string
	if err := s.st.DB().Read(s.ctx).Model(&subscriptionRow{}).Where("mailbox_id = ?", s.mailboxID).Pluck("name", &names).Error; err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

// setSubscription subscribes or unsubscribes a name: the folder's own
// flag, if it exists, and the kept name.
func (s *Session) setSubscription(name string, on bool) error {
	if err := s.st.SetSubscribed(s.ctx, s.mailboxID, name, on); err != nil && !errors.Is(err, store.ErrNoFolder) {
		return err
	}
	return s.st.DB().Write(s.ctx, func(tx *gorm.DB) error {
		row := subscriptionRow{MailboxID: s.mailboxID, Name: name}
		if on {
			return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
		}
		return tx.Where("mailbox_id = ? AND name = ?", s.mailboxID, name).Delete(&subscriptionRow{}).Error
	})
}
