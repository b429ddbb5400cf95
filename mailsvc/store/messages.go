package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UIDRange is an inclusive range of UIDs; Stop 0 means "to the last".
type UIDRange struct{ Start, Stop uint32 }

// A call takes any number of UID ranges: an IMAP client may send
// "UID COPY 1,3,5,...,17199" (8,600 ranges), a POP3 QUIT delete scattered
// messages. One statement names at most maxUIDRanges of them (both
// engines cap a statement's parameters, and long OR lists plan slowly), so
// a longer list is read in batches of that many, all in the call's one
// transaction: a COPY or MOVE is stored entirely or not at all, whatever
// the number of ranges.

// normRanges sorts ranges and merges those that overlap or touch, so that
// batches of them come in UID order and name each UID once (a UID in two
// batches would be copied twice). A range whose Start is past its Stop
// names nothing, as BETWEEN has it. nil, every UID, stays nil.
func normRanges(ranges []UIDRange) []UIDRange {
	if ranges == nil {
		return nil
	}
	out := make([]UIDRange, 0, len(ranges))
	for _, r := range ranges {
		if r.Stop == 0 || r.Start <= r.Stop {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b UIDRange) int { return cmp.Compare(a.Start, b.Start) })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if last.Stop == 0 {
				continue // it runs to the last UID: r is in it
			}
			if uint64(r.Start) <= uint64(last.Stop)+1 {
				if r.Stop == 0 || r.Stop > last.Stop {
					last.Stop = r.Stop
				}
				continue
			}
		}
		merged = append(merged, r)
	}
	return merged
}

// uidBatches splits normalised ranges into batches for whereUIDs, in UID
// order: nil (every UID) is one batch, nil; an empty list no batch.
func uidBatches(ranges []UIDRange) [][]UIDRange {
	if ranges == nil {
		return [][]UIDRange{nil}
	}
	var out [][]UIDRange
	for len(ranges) > 0 {
		n := min(len(ranges), maxUIDRanges)
		out = append(out, ranges[:n:n])
		ranges = ranges[n:]
	}
	return out
}

// whereUIDs limits q to the UIDs in ranges, a batch of uidBatches: nil
// means every UID, an empty batch none. Each range is its own condition,
// the conditions ORed in one group.
func whereUIDs(q *gorm.DB, ranges []UIDRange) *gorm.DB { return whereUIDsOn(q, "uid", ranges) }

// whereUIDsOn is whereUIDs on the UID column col (qualified in a join).
func whereUIDsOn(q *gorm.DB, col string, ranges []UIDRange) *gorm.DB {
	if ranges == nil {
		return q
	}
	if len(ranges) == 0 {
		return q.Where("1 = 0")
	}
	conds := make([]string, 0, len(ranges))
	args := make([]any, 0, 2*len(ranges))
	for _, r := range ranges {
		switch {
		case r.Stop == 0:
			conds = append(conds, col+" >= ?")
			args = append(args, r.Start)
		case r.Start == r.Stop:
			conds = append(conds, col+" = ?")
			args = append(args, r.Start)
		default:
			conds = append(conds, col+" BETWEEN ? AND ?")
			args = append(args, r.Start, r.Stop)
		}
	}
	return q.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// findMessages reads a folder's messages in ranges (nil: all), in UID
// order, a batch of ranges a query; db may be a transaction.
func findMessages(db *gorm.DB, folderID int64, ranges []UIDRange) ([]Message, error) {
	var out []Message
	for _, b := range uidBatches(normRanges(ranges)) {
		var ms []Message
		if err := whereUIDs(db.Where("folder_id = ?", folderID), b).Order("uid").Find(&ms).Error; err != nil {
			return nil, err
		}
		if out == nil {
			out = ms
		} else {
			out = append(out, ms...)
		}
	}
	return out, nil
}

// Messages returns a folder's messages in UID order; ranges nil means all.
func (s *Store) Messages(ctx context.Context, folderID int64, ranges []UIDRange) ([]Message, error) {
	ms, err := findMessages(s.db.Read(ctx), folderID, ranges)
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

// StoreFlags changes flags of the messages in ranges, in one
// transaction; it returns the messages whose flags changed, with their new
// modseq (one for the call).
func (s *Store) StoreFlags(ctx context.Context, folderID int64, ranges []UIDRange, op FlagOp, fl Flags) ([]Message, error) {
	changed, _, err := s.StoreFlagsUnchangedSince(ctx, folderID, ranges, op, fl, -1)
	return changed, err
}

// StoreFlagsUnchangedSince is StoreFlags for IMAP's STORE (UNCHANGEDSINCE
// n) (RFC 7162 3.1.3): a message whose modseq is past unchangedSince is
// left as it is and its UID returned in modified, all in the one
// transaction that reads the modseqs, so a concurrent change is never
// overwritten. unchangedSince -1 tests nothing; 0 fails every message.
func (s *Store) StoreFlagsUnchangedSince(ctx context.Context, folderID int64, ranges []UIDRange, op FlagOp, fl Flags, unchangedSince int64) (changed []Message, modified []uint32, err error) {
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		changed, modified = nil, nil
		// The folder is locked before its messages are read: every
		// change of a message's flags bumps its folder's modseq, so a
		// concurrent one has committed by then, and its flags are not
		// written back as they were.
		if err := lockFolders(tx, folderID); errors.Is(err, ErrNoFolder) {
			return nil // deleted meanwhile: no messages, nothing to change
		} else if err != nil {
			return err
		}
		ms, err := findMessages(tx, folderID, ranges)
		if err != nil {
			return fmt.Errorf("read messages: %w", err)
		}
		for i := range ms {
			if unchangedSince >= 0 && ms[i].ModSeq > unchangedSince {
				modified = append(modified, ms[i].UID)
				continue
			}
			if op.change(&ms[i], fl) {
				changed = append(changed, ms[i])
			}
		}
		if len(changed) == 0 {
			return nil
		}
		modseq, err := s.bumpModSeq(tx, folderID)
		if err != nil {
			return err
		}
		for i := range changed {
			changed[i].ModSeq = modseq
		}
		if err := writeFlags(tx, changed); err != nil {
			return err
		}
		return s.notifyTx(tx, []int64{folderID})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store flags: %w", err)
	}
	if len(changed) > 0 {
		s.notify.publish(folderID)
	}
	return changed, modified, nil
}

// flagSet is a message's flags, as writeFlags groups messages by them.
type flagSet struct {
	seen, answered, flagged, deleted, draft bool
	keywords                                string
}

// writeFlags writes the flags and modseq of changed messages (all with
// one modseq): one UPDATE per chunk of messages that ended with the same
// flags, most often all of them (STORE 1:* +FLAGS \Seen), rather than one
// per message.
func writeFlags(tx *gorm.DB, ms []Message) error {
	groups := map[flagSet][]int64{}
	var order []flagSet // the first message's order, for a stable lock order
	for _, m := range ms {
		k := flagSet{m.Seen, m.Answered, m.Flagged, m.Deleted, m.Draft, m.Keywords}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m.ID)
	}
	for _, k := range order {
		ids := groups[k]
		// Chunks keep the IN list within both engines' parameter limits.
		for start := 0; start < len(ids); start += 500 {
			err := tx.Model(&Message{}).Where("id IN ?", ids[start:min(start+500, len(ids))]).Updates(map[string]any{
				"seen": k.seen, "answered": k.answered, "flagged": k.flagged, "deleted": k.deleted, "draft": k.draft,
				"keywords": k.keywords, "modseq": ms[0].ModSeq,
			}).Error
			if err != nil {
				return fmt.Errorf("write flags: %w", err)
			}
		}
	}
	return nil
}

// lockFolders locks folder rows for the rest of the transaction, in id
// order, so that two transactions locking the same folders (a MOVE from A
// to B and one from B to A) can't deadlock.
func lockFolders(tx *gorm.DB, ids ...int64) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		var f Folder
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").Take(&f, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("folder %d: %w", id, ErrNoFolder)
			}
			return fmt.Errorf("lock folder: %w", err)
		}
	}
	return nil
}

// CopyResult maps source UIDs to the new ones: Src[i] became Dst[i], both
// ascending.
type CopyResult struct {
	UIDValidity uint32
	Src, Dst    []uint32
}

// Copy copies messages to another folder of the same mailbox, in one
// transaction: all of them or, over quota (checked once, for them all),
// none. Bodies are shared, not duplicated, but count against the quota.
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

// insertBatch is the number of rows one INSERT writes. A message row has
// 16 columns; the SQLite driver binds each parameter with a scan of all of
// them, a cost that grows with the square of a statement's parameters,
// so the batch is kept small: 100 rows cost a fifth as much per row as
// 500. PostgreSQL measured no faster with larger batches.
const insertBatch = 100

func (s *Store) copyTx(tx *gorm.DB, src, dst *Folder, ranges []UIDRange, quota int64) (*CopyResult, error) {
	if src.MailboxID != dst.MailboxID {
		return nil, ErrNoFolder
	}
	// The destination before the usage row (checkQuota, addUsage): the
	// lock order of every writer.
	if err := lockFolders(tx, dst.ID); err != nil {
		return nil, err
	}
	ms, err := findMessages(tx, src.ID, ranges)
	if err != nil {
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
	res.Src, res.Dst = make([]uint32, len(ms)), make([]uint32, len(ms))
	saved := s.now().UTC() // a copy is saved now (RFC 8514 4.1)
	for i := range ms {
		m := &ms[i]
		res.Src[i] = m.UID
		m.ID, m.FolderID, m.UID, m.ModSeq, m.SaveDate = 0, dst.ID, first+uint32(i), modseq, &saved
		res.Dst[i] = m.UID
	}
	for start := 0; start < len(ms); start += insertBatch {
		batch := ms[start:min(start+insertBatch, len(ms))]
		if err := tx.Create(&batch).Error; err != nil {
			return nil, fmt.Errorf("copy messages: %w", err)
		}
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
		if err := lockFolders(tx, src.ID, dst.ID); err != nil {
			return err
		}
		var err error
		res, err = s.moveRangesTx(tx, src, dst, ranges)
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

// moveTx moves the messages with the given UIDs.
func (s *Store) moveTx(tx *gorm.DB, src, dst *Folder, uids []uint32) (*CopyResult, error) {
	if len(uids) == 0 {
		return &CopyResult{UIDValidity: dst.UIDValidity}, nil
	}
	return s.moveRangesTx(tx, src, dst, compressUIDs(uids))
}

func (s *Store) moveRangesTx(tx *gorm.DB, src, dst *Folder, ranges []UIDRange) (*CopyResult, error) {
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
	var bytes int64
	// Chunks keep the IN list within both engines' parameter limits.
	for start := 0; start < len(uids); start += 500 {
		chunk := uids[start:min(start+500, len(uids))]
		var found []struct {
			UID  uint32 `gorm:"column:uid"`
			Size int64
		}
		if err := tx.Model(&Message{}).Where("folder_id = ? AND uid IN ?", f.ID, chunk).Select("uid, size").Find(&found).Error; err != nil {
			return nil, fmt.Errorf("read messages: %w", err)
		}
		if len(found) == 0 {
			continue
		}
		if err := tx.Where("folder_id = ? AND uid IN ?", f.ID, chunk).Delete(&Message{}).Error; err != nil {
			return nil, fmt.Errorf("delete messages: %w", err)
		}
		gone := make([]expunged, len(found))
		for i, m := range found {
			gone[i] = expunged{FolderID: f.ID, UID: m.UID, ModSeq: modseq}
			bytes += m.Size
			out = append(out, m.UID)
		}
		if err := tx.Create(&gone).Error; err != nil {
			return nil, fmt.Errorf("record expunges: %w", err)
		}
	}
	if err := s.addUsage(tx, f.MailboxID, -bytes, -int64(len(out))); err != nil {
		return nil, err
	}
	sortUIDs(out)
	return out, nil
}
