package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// UIDRange is an inclusive range of UIDs; Stop 0 means "to the last".
type UIDRange struct{ Start, Stop uint32 }

func whereUIDs(db *gorm.DB, ranges []UIDRange) *gorm.DB {
	if ranges == nil {
		return db
	}
	if len(ranges) == 0 {
		return db.Where("1 = 0")
	}
	base := db.Session(&gorm.Session{NewDB: true})
	var cond *gorm.DB
	for i, r := range ranges {
		// Each range starts from a fresh condition; building on cond
		// would AND the ranges together.
		var c *gorm.DB
		if r.Stop == 0 {
			c = base.Session(&gorm.Session{NewDB: true}).Where("uid >= ?", r.Start)
		} else {
			c = base.Session(&gorm.Session{NewDB: true}).Where("uid BETWEEN ? AND ?", r.Start, r.Stop)
		}
		if i == 0 {
			cond = c
		} else {
			cond = cond.Or(c)
		}
	}
	return db.Where(cond)
}

// Messages returns a folder's messages in UID order; ranges nil means all.
func (s *Store) Messages(ctx context.Context, folderID int64, ranges []UIDRange) ([]Message, error) {
	var ms []Message
	err := whereUIDs(s.db.Read(ctx).Where("folder_id = ?", folderID), ranges).Order("uid").Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return ms, nil
}

// UIDs returns a folder's UIDs in order, for sequence numbers.
func (s *Store) UIDs(ctx context.Context, folderID int64) ([]uint32, error) {
	var uids []uint32
	if err := s.db.Read(ctx).Model(&Message{}).Where("folder_id = ?", folderID).Order("uid").Pluck("uid", &uids).Error; err != nil {
		return nil, fmt.Errorf("list uids: %w", err)
	}
	return uids, nil
}

// Message returns one message of a mailbox by folder and UID; it is
// checked against the mailbox, so a guessed id of another mailbox's
// message is simply not found.
func (s *Store) Message(ctx context.Context, mailboxID, folderID int64, uid uint32) (*Message, error) {
	var m Message
	err := s.db.Read(ctx).Where("mailbox_id = ? AND folder_id = ? AND uid = ?", mailboxID, folderID, uid).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoMessage
	}
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	return &m, nil
}

// StoreFlags changes flags of the messages in ranges; it returns the
// messages whose flags changed, with their new modseq.
func (s *Store) StoreFlags(ctx context.Context, folderID int64, ranges []UIDRange, op FlagOp, fl Flags) ([]Message, error) {
	var changed []Message
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		changed = changed[:0]
		var ms []Message
		if err := whereUIDs(tx.Where("folder_id = ?", folderID), ranges).Order("uid").Find(&ms).Error; err != nil {
			return err
		}
		var modseq int64
		for i := range ms {
			m := &ms[i]
			if !op.change(m, fl) {
				continue
			}
			if modseq == 0 {
				var err error
				if modseq, err = s.bumpModSeq(tx, folderID); err != nil {
					return err
				}
			}
			m.ModSeq = modseq
			err := tx.Model(&Message{}).Where("id = ?", m.ID).Updates(map[string]any{
				"seen": m.Seen, "answered": m.Answered, "flagged": m.Flagged, "deleted": m.Deleted, "draft": m.Draft,
				"keywords": m.Keywords, "modseq": m.ModSeq,
			}).Error
			if err != nil {
				return err
			}
			changed = append(changed, *m)
		}
		if len(changed) > 0 {
			return s.notifyTx(tx, []int64{folderID})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store flags: %w", err)
	}
	if len(changed) > 0 {
		s.notify.publish(folderID)
	}
	return changed, nil
}

// CopyResult maps source UIDs to the new ones.
type CopyResult struct {
	UIDValidity uint32
	Src, Dst    []uint32
}

// Copy copies messages to another folder of the same mailbox; bodies are
// shared, not duplicated, but count against the quota.
func (s *Store) Copy(ctx context.Context, src, dst *Folder, ranges []UIDRange, quota int64) (*CopyResult, error) {
	var res *CopyResult
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var err error
		res, err = s.copyTx(tx, src, dst, ranges, quota)
		if err != nil {
			return err
		}
		return s.notifyTx(tx, []int64{dst.ID})
	})
	if err != nil {
		return nil, err
	}
	s.notify.publish(dst.ID)
	return res, nil
}

func (s *Store) copyTx(tx *gorm.DB, src, dst *Folder, ranges []UIDRange, quota int64) (*CopyResult, error) {
	if src.MailboxID != dst.MailboxID {
		return nil, ErrNoFolder
	}
	var ms []Message
	if err := whereUIDs(tx.Where("folder_id = ?", src.ID), ranges).Order("uid").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	res := &CopyResult{UIDValidity: dst.UIDValidity}
	if len(ms) == 0 {
		return res, nil
	}
	var total int64
	for _, m := range ms {
		total += m.Size
	}
	if err := s.checkQuota(tx, dst.MailboxID, quota, total); err != nil {
		return nil, err
	}
	first, modseq, err := s.allocate(tx, dst.ID, len(ms))
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		res.Src = append(res.Src, m.UID)
		m.ID, m.FolderID, m.UID, m.ModSeq = 0, dst.ID, first+uint32(i), modseq
		if err := tx.Create(&m).Error; err != nil {
			return nil, fmt.Errorf("copy message: %w", err)
		}
		res.Dst = append(res.Dst, m.UID)
	}
	if err := s.addUsage(tx, dst.MailboxID, total, int64(len(ms))); err != nil {
		return nil, err
	}
	return res, nil
}

// Move moves messages to another folder of the same mailbox (RFC 6851):
// copy and expunge in one transaction, so the quota is not charged twice.
func (s *Store) Move(ctx context.Context, src, dst *Folder, ranges []UIDRange) (*CopyResult, error) {
	var res *CopyResult
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var uids []uint32
		if err := whereUIDs(tx.Model(&Message{}).Where("folder_id = ?", src.ID), ranges).Order("uid").Pluck("uid", &uids).Error; err != nil {
			return err
		}
		var err error
		res, err = s.moveTx(tx, src, dst, uids)
		if err != nil {
			return err
		}
		return s.notifyTx(tx, []int64{src.ID, dst.ID})
	})
	if err != nil {
		return nil, err
	}
	s.notify.publish(src.ID, dst.ID)
	return res, nil
}

func (s *Store) moveTx(tx *gorm.DB, src, dst *Folder, uids []uint32) (*CopyResult, error) {
	ranges := make([]UIDRange, len(uids))
	for i, u := range uids {
		ranges[i] = UIDRange{u, u}
	}
	if len(uids) == 0 {
		return &CopyResult{UIDValidity: dst.UIDValidity}, nil
	}
	res, err := s.copyTx(tx, src, dst, ranges, 0)
	if err != nil {
		return nil, err
	}
	if _, err := s.expungeTx(tx, src, res.Src); err != nil {
		return nil, err
	}
	return res, nil
}

// Expunge removes messages: those with \Deleted among uids (nil: all
// \Deleted ones). It returns the expunged UIDs.
func (s *Store) Expunge(ctx context.Context, f *Folder, uids []uint32) ([]uint32, error) {
	var out []uint32
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var del []uint32
		if uids == nil {
			if err := tx.Model(&Message{}).Where("folder_id = ? AND deleted", f.ID).Order("uid").Pluck("uid", &del).Error; err != nil {
				return err
			}
		}
		// Chunks keep the IN list within both engines' parameter limits.
		for start := 0; start < len(uids); start += 500 {
			var part []uint32
			chunk := uids[start:min(start+500, len(uids))]
			if err := tx.Model(&Message{}).Where("folder_id = ? AND deleted AND uid IN ?", f.ID, chunk).Order("uid").Pluck("uid", &part).Error; err != nil {
				return err
			}
			del = append(del, part...)
		}
		if uids != nil && len(del) == 0 {
			out = nil
			return nil
		}
		var err error
		out, err = s.expungeTx(tx, f, del)
		if err != nil {
			return err
		}
		if len(out) > 0 {
			return s.notifyTx(tx, []int64{f.ID})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expunge: %w", err)
	}
	if len(out) > 0 {
		s.notify.publish(f.ID)
	}
	return out, nil
}

// expungeTx removes exactly the given UIDs.
func (s *Store) expungeTx(tx *gorm.DB, f *Folder, uids []uint32) ([]uint32, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	modseq, err := s.bumpModSeq(tx, f.ID)
	if err != nil {
		return nil, err
	}
	var out []uint32
	// Chunks keep the IN list within both engines' parameter limits.
	for start := 0; start < len(uids); start += 500 {
		chunk := uids[start:min(start+500, len(uids))]
		var sum struct{ Bytes, Messages int64 }
		if err := tx.Model(&Message{}).Where("folder_id = ? AND uid IN ?", f.ID, chunk).
			Select("COALESCE(SUM(size),0) AS bytes, COUNT(*) AS messages").Scan(&sum).Error; err != nil {
			return nil, err
		}
		var found []uint32
		if err := tx.Model(&Message{}).Where("folder_id = ? AND uid IN ?", f.ID, chunk).Pluck("uid", &found).Error; err != nil {
			return nil, err
		}
		if err := tx.Where("folder_id = ? AND uid IN ?", f.ID, chunk).Delete(&Message{}).Error; err != nil {
			return nil, err
		}
		for _, u := range found {
			if err := tx.Create(&expunged{FolderID: f.ID, UID: u, ModSeq: modseq}).Error; err != nil {
				return nil, err
			}
		}
		if err := s.addUsage(tx, f.MailboxID, -sum.Bytes, -sum.Messages); err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	sortUIDs(out)
	return out, nil
}

// Changes returns what changed in a folder after modseq: messages added or
// with new flags, and expunged UIDs, with the folder's highest modseq.
func (s *Store) Changes(ctx context.Context, folderID int64, since int64) (changed []Message, gone []uint32, highest int64, err error) {
	db := s.db.Read(ctx)
	var f Folder
	if err := db.Take(&f, folderID).Error; err != nil {
		return nil, nil, 0, fmt.Errorf("read folder: %w", err)
	}
	if f.HighestModSeq <= since {
		return nil, nil, f.HighestModSeq, nil
	}
	if err := db.Where("folder_id = ? AND modseq > ?", folderID, since).Order("uid").Find(&changed).Error; err != nil {
		return nil, nil, 0, fmt.Errorf("read changes: %w", err)
	}
	if err := db.Model(&expunged{}).Where("folder_id = ? AND modseq > ?", folderID, since).Order("uid").Pluck("uid", &gone).Error; err != nil {
		return nil, nil, 0, fmt.Errorf("read expunges: %w", err)
	}
	return changed, gone, f.HighestModSeq, nil
}
