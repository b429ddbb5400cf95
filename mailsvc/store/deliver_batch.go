package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Many recipients in one delivery (a list post to thousands of local
// members) are stored with a few statements per batchChunk of them rather
// than seven each, so that the transaction, which on SQLite holds the one
// write lock, stays short. The rows and the rules are the same as
// deliverTx's one by one: folders locked in mailbox order before the usage
// rows, quota checked on the locked usage, one UID and one modseq per
// folder.

// minBatch is the fewest recipients worth the batch path.
const minBatch = 8

// batchChunk bounds the rows of one statement (SQLite takes 32766
// parameters, PostgreSQL 65535; a message row has about 20).
const batchChunk = 500

// batchable returns the recipients the batch path takes: those whose
// folder no other recipient of the delivery names (a folder taking two
// copies needs two UIDs, which the one-by-one path allocates).
func batchable(rs []Rcpt) []int {
	type key struct {
		mailbox int64
		folder  string
	}
	count := map[key]int{}
	keyOf := func(r Rcpt) key {
		f := r.Folder
		if f == "" {
			f = "INBOX"
		}
		return key{r.MailboxID, canonical(f)}
	}
	for _, r := range rs {
		if !r.System {
			count[keyOf(r)]++
		}
	}
	var out []int
	for i, r := range rs {
		if !r.System && count[keyOf(r)] == 1 {
			out = append(out, i)
		}
	}
	if len(out) < minBatch {
		return nil
	}
	slices.SortStableFunc(out, func(a, b int) int { return cmp.Compare(rs[a].MailboxID, rs[b].MailboxID) })
	return out
}

// deliverBatchTx stores j's message for the recipients idx (batchable's,
// in mailbox order) and reports whether it stored any.
func (s *Store) deliverBatchTx(tx *gorm.DB, j *job, idx []int) (bool, error) {
	d := j.d
	// The folders, made where missing.
	folderOf := make(map[int]int64, len(idx))
	byName := map[string][]int{}
	for _, i := range idx {
		f := d.Rcpts[i].Folder
		if f == "" {
			f = "INBOX"
		}
		byName[canonical(f)] = append(byName[canonical(f)], i)
	}
	for name, is := range byName {
		for c := range slices.Chunk(is, batchChunk) {
			ids := make([]int64, len(c))
			for k, i := range c {
				ids[k] = d.Rcpts[i].MailboxID
			}
			var fs []Folder
			if err := tx.Select("id", "mailbox_id").Where("mailbox_id IN ? AND name = ?", ids, name).Find(&fs).Error; err != nil {
				return false, fmt.Errorf("look up folders %s: %w", name, err)
			}
			have := make(map[int64]int64, len(fs))
			for _, f := range fs {
				have[f.MailboxID] = f.ID
			}
			if err := s.makeFoldersTx(tx, name, ids, have); err != nil {
				return false, err
			}
			for _, i := range c {
				id, ok := have[d.Rcpts[i].MailboxID]
				if !ok {
					return false, fmt.Errorf("folder %s of mailbox %d: %w", name, d.Rcpts[i].MailboxID, ErrNoFolder)
				}
				folderOf[i] = id
			}
		}
	}
	// Lock the folders in mailbox order and read their counters, then
	// the usage rows of those with a quota.
	folders := make(map[int64]Folder, len(idx))
	var quota []int64
	for c := range slices.Chunk(idx, batchChunk) {
		ids := make([]int64, len(c))
		for k, i := range c {
			ids[k] = folderOf[i]
			if d.Rcpts[i].Quota > 0 {
				quota = append(quota, d.Rcpts[i].MailboxID)
			}
		}
		var fs []Folder
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id IN ?", ids).Order("mailbox_id, id").Find(&fs).Error; err != nil {
			return false, fmt.Errorf("lock folders: %w", err)
		}
		for _, f := range fs {
			folders[f.ID] = f
		}
	}
	used := map[int64]int64{}
	for c := range slices.Chunk(quota, batchChunk) {
		var us []usage
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("mailbox_id IN ?", c).Order("mailbox_id").Find(&us).Error; err != nil {
			return false, fmt.Errorf("read usage: %w", err)
		}
		for _, u := range us {
			used[u.MailboxID] = u.Bytes
		}
	}
	// The rows.
	_, zone := j.date.Zone()
	saved := s.now().UTC()
	var msgs []Message
	var took []int
	var bumped []int64
	var usages []usage
	usageAt := map[int64]int{}
	for _, i := range idx {
		r := d.Rcpts[i]
		f, ok := folders[folderOf[i]]
		if !ok {
			return false, fmt.Errorf("folder %d: %w", folderOf[i], ErrNoFolder)
		}
		msize := j.size + int64(len(r.Prefix))
		if r.Quota > 0 && used[r.MailboxID]+msize > r.Quota {
			j.res.Errs[i] = ErrOverQuota
			continue
		}
		if int64(f.UIDNext)+1 >= 1<<32 {
			return false, errors.New("folder ran out of UIDs")
		}
		m := Message{FolderID: f.ID, MailboxID: r.MailboxID, UID: f.UIDNext, ModSeq: f.HighestModSeq + 1, InternalDate: j.date.UTC(),
			InternalZone: zone, Size: msize, BlobKey: j.key, Prefix: r.Prefix, SaveDate: &saved}
		r.Flags.apply(&m)
		used[r.MailboxID] += msize // a mailbox's next copy counts this one
		msgs = append(msgs, m)
		took = append(took, i)
		bumped = append(bumped, f.ID)
		// One row a mailbox: PostgreSQL's upsert won't touch a row twice.
		if k, ok := usageAt[r.MailboxID]; ok {
			usages[k].Bytes += msize
			usages[k].Messages++
		} else {
			usageAt[r.MailboxID] = len(usages)
			usages = append(usages, usage{MailboxID: r.MailboxID, Bytes: msize, Messages: 1})
		}
	}
	if len(msgs) == 0 {
		return false, nil
	}
	for c := range slices.Chunk(bumped, batchChunk) {
		err := tx.Model(&Folder{}).Where("id IN ?", c).
			Updates(map[string]any{"uid_next": gorm.Expr("uid_next + 1"), "highest_modseq": gorm.Expr("highest_modseq + 1")}).Error
		if err != nil {
			return false, fmt.Errorf("allocate uids: %w", err)
		}
	}
	if err := tx.CreateInBatches(&msgs, batchChunk).Error; err != nil {
		return false, fmt.Errorf("insert messages: %w", err)
	}
	err := tx.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "mailbox_id"}},
		DoUpdates: clause.Assignments(map[string]any{
			"bytes":    gorm.Expr("mail_usage.bytes + excluded.bytes"),
			"messages": gorm.Expr("mail_usage.messages + excluded.messages"),
		}),
	}).CreateInBatches(&usages, batchChunk).Error
	if err != nil {
		return false, fmt.Errorf("update usage: %w", err)
	}
	for k, i := range took {
		j.res.UIDs[i] = msgs[k].UID
	}
	j.touched = append(j.touched, bumped...)
	return true, nil
}

// makeFoldersTx makes folder name in those of mailboxes that lack it (not
// in have) as ensureFolderTx does, in a few statements, and adds their ids
// to have.
func (s *Store) makeFoldersTx(tx *gorm.DB, name string, mailboxes []int64, have map[int64]int64) error {
	var missing []int64
	var rows []Folder
	now := s.now().UTC()
	for _, id := range mailboxes {
		if _, ok := have[id]; !ok {
			missing = append(missing, id)
			rows = append(rows, Folder{MailboxID: id, Name: name, Subscribed: true, UIDNext: 1, HighestModSeq: 1, UIDValidity: 1, CreatedAt: now})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// Two deliveries may make a missing folder at once: insert-or-nothing,
	// then read whichever rows won.
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, batchChunk).Error; err != nil {
		return fmt.Errorf("create folders %s: %w", name, err)
	}
	var fs []Folder
	if err := tx.Select("id", "mailbox_id", "uid_validity").Where("mailbox_id IN ? AND name = ?", missing, name).Find(&fs).Error; err != nil {
		return fmt.Errorf("look up folders %s: %w", name, err)
	}
	var fresh []int64
	for _, f := range fs {
		have[f.MailboxID] = f.ID
		if f.UIDValidity == 1 && f.ID != 1 {
			fresh = append(fresh, f.ID)
		}
	}
	// UIDVALIDITY: the folder's id, as ensureFolderTx sets it.
	if len(fresh) > 0 {
		if err := tx.Model(&Folder{}).Where("id IN ?", fresh).Update("uid_validity", gorm.Expr("id")).Error; err != nil {
			return fmt.Errorf("set uidvalidity: %w", err)
		}
	}
	return nil
}
