package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ExpireOlder removes (expunges, as IMAP's EXPUNGE does: sessions are told,
// quota usage goes down) at most limit messages of the mailbox's folder
// whose internal date is before before, oldest UIDs first, in one
// transaction. It returns how many it removed; a folder that does not
// exist has none. The message expiry job calls it in bounded batches.
func (s *Store) ExpireOlder(ctx context.Context, mailboxID int64, folder string, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var f Folder
	var gone []uint32
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		err := tx.Where("mailbox_id = ? AND name = ?", mailboxID, canonical(folder)).Take(&f).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up folder: %w", err)
		}
		var uids []uint32
		if err := tx.Model(&Message{}).Where("folder_id = ? AND internal_date < ?", f.ID, before.UTC()).
			Order("uid").Limit(limit).Pluck("uid", &uids).Error; err != nil {
			return fmt.Errorf("find expired messages: %w", err)
		}
		if gone, err = s.expungeTx(tx, &f, uids); err != nil {
			return err
		}
		if len(gone) > 0 {
			return s.notifyTx(tx, []int64{f.ID})
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire messages of %q: %w", folder, err)
	}
	if len(gone) > 0 {
		s.notify.publish(f.ID)
	}
	return len(gone), nil
}
