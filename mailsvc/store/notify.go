package store

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
)

// pgChannel is the NOTIFY channel that carries changed folder ids between
// Postdesk processes sharing one PostgreSQL database.
const pgChannel = "postdesk_mail"

// Notifier tells watchers of a folder that it changed. Watchers then read
// the changes from the database (Store.Changes), so a lost or merged
// notification loses nothing.
type Notifier struct {
	mu       sync.Mutex
	watchers map[int64]map[chan struct{}]struct{}
}

func newNotifier() *Notifier {
	return &Notifier{watchers: map[int64]map[chan struct{}]struct{}{}}
}

// Watch returns a channel that receives (coalesced) a value after changes
// to a folder, and a function to stop watching.
func (s *Store) Watch(folderID int64) (<-chan struct{}, func()) {
	n := s.notify
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.watchers[folderID] == nil {
		n.watchers[folderID] = map[chan struct{}]struct{}{}
	}
	n.watchers[folderID][ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.watchers[folderID], ch)
		if len(n.watchers[folderID]) == 0 {
			delete(n.watchers, folderID)
		}
		n.mu.Unlock()
	}
}

func (n *Notifier) publish(folderIDs ...int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, id := range folderIDs {
		for ch := range n.watchers[id] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// changesPage is the most rows one query of the change feed returns.
const changesPage = 1000

// ChangePage is one page of a folder's change feed: messages added or
// given new flags, or expunged UIDs.
type ChangePage struct {
	// Changed are messages with only their UID, modseq and flags read.
	Changed []Message
	Gone    []uint32
}

// ReadChanges reads what changed in a folder after modseq since and hands
// it to fn a page at a time, at most changesPage rows each, so that a
// change to a whole folder (STORE 1:* +FLAGS \Seen on 100,000 messages)
// is never one query's result: first the changed messages, their pages
// in UID order, then the expunged UIDs, likewise. It returns the folder's
// highest modseq, read before the pages: every change up to it is in them.
// Later ones may be too, read as they were when their page was; watchers
// read again after the next notification, and a change seen twice is
// harmless to them.
func (s *Store) ReadChanges(ctx context.Context, folderID, since int64, fn func(ChangePage) error) (int64, error) {
	return s.readChanges(ctx, folderID, since, changesPage, fn)
}

func (s *Store) readChanges(ctx context.Context, folderID, since int64, page int, fn func(ChangePage) error) (int64, error) {
	db := s.db.Read(ctx)
	var f Folder
	if err := db.Take(&f, folderID).Error; err != nil {
		return 0, fmt.Errorf("read folder: %w", err)
	}
	if f.HighestModSeq <= since {
		return f.HighestModSeq, nil
	}
	changed := func(modseqCond string) *gorm.DB {
		return db.Model(&Message{}).Select("uid, modseq, seen, answered, flagged, deleted, draft, keywords").
			Where("folder_id = ? AND "+modseqCond, folderID, since)
	}
	scanChanged := func(q *gorm.DB) ([]Message, error) {
		var ms []Message
		return ms, q.Find(&ms).Error
	}
	err := feedPages(changed, page, scanChanged, func(m Message) uint32 { return m.UID },
		func(ms []Message) error { return fn(ChangePage{Changed: ms}) })
	if err != nil {
		return 0, fmt.Errorf("read changes: %w", err)
	}
	gone := func(modseqCond string) *gorm.DB {
		return db.Model(&expunged{}).Where("folder_id = ? AND "+modseqCond, folderID, since)
	}
	scanGone := func(q *gorm.DB) ([]uint32, error) {
		var uids []uint32
		return uids, q.Pluck("uid", &uids).Error
	}
	err = feedPages(gone, page, scanGone, func(u uint32) uint32 { return u },
		func(uids []uint32) error { return fn(ChangePage{Gone: uids}) })
	if err != nil {
		return 0, fmt.Errorf("read expunges: %w", err)
	}
	return f.HighestModSeq, nil
}

// ReadExpunged hands fn, a page at a time in UID order, the UIDs expunged
// from a folder after modseq since: what QRESYNC reports in VANISHED
// (EARLIER) (RFC 7162 3.2.5.1, 3.2.6). Every expunge is kept (with its
// modseq, mail_expunged) for as long as the folder lives, so a client
// resyncing from any modseq of the folder's UIDVALIDITY learns of all.
func (s *Store) ReadExpunged(ctx context.Context, folderID, since int64, fn func([]uint32) error) error {
	db := s.db.Read(ctx)
	gone := func(modseqCond string) *gorm.DB {
		return db.Model(&expunged{}).Where("folder_id = ? AND "+modseqCond, folderID, since)
	}
	scanGone := func(q *gorm.DB) ([]uint32, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var uids []uint32
		return uids, q.Pluck("uid", &uids).Error
	}
	if err := feedPages(gone, changesPage, scanGone, func(u uint32) uint32 { return u }, fn); err != nil {
		return fmt.Errorf("read expunges: %w", err)
	}
	return nil
}

// feedPages reads the rows of a change-feed query and hands them to emit
// in pages of at most page rows, in UID order. base gives the folder's
// rows that pass the condition it is given on their modseq: "modseq > ?",
// the ? being the modseq the feed is read after.
//
// The first query goes by the (folder_id, modseq) index, which holds just
// the changed rows: usually (a few new or flagged messages) they are all
// there is, one query. A full first page means a large change: then the
// rows are read again in pages by UID, each page after the last UID of the
// one before, along the (folder_id, uid) index, which reads the folder
// once over all pages. Paging by modseq alone could not work, as one STORE
// gives all its messages one modseq, and a modseq-then-UID order would
// sort every row of that modseq for each page. In those pages the modseq
// condition is written "modseq + 0", which no index serves: PostgreSQL,
// whose statistics don't know yet of the large change, would otherwise
// take the modseq index for a few rows and sort the whole change for each
// page.
func feedPages[T any](base func(modseqCond string) *gorm.DB, page int, scan func(*gorm.DB) ([]T, error), uid func(T) uint32, emit func([]T) error) error {
	rows, err := scan(base("modseq > ?").Order("modseq").Limit(page))
	if err != nil {
		return err
	}
	if len(rows) < page {
		if len(rows) == 0 {
			return nil
		}
		slices.SortFunc(rows, func(a, b T) int { return cmp.Compare(uid(a), uid(b)) })
		return emit(rows)
	}
	for after := uint32(0); ; {
		rows, err := scan(base("modseq + 0 > ?").Where("uid > ?", after).Order("uid").Limit(page))
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := emit(rows); err != nil {
				return err
			}
			after = uid(rows[len(rows)-1])
		}
		if len(rows) < page {
			return nil
		}
	}
}

// Changes returns what changed in a folder after modseq since, as
// ReadChanges reads it, all pages at once: messages added or with new
// flags (UID, modseq and flags only), expunged UIDs, and the folder's
// highest modseq. For small folders and tests; watchers of a folder, which
// may see it changed whole, use ReadChanges.
func (s *Store) Changes(ctx context.Context, folderID int64, since int64) (changed []Message, gone []uint32, highest int64, err error) {
	highest, err = s.ReadChanges(ctx, folderID, since, func(p ChangePage) error {
		changed = append(changed, p.Changed...)
		gone = append(gone, p.Gone...)
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return changed, gone, highest, nil
}

// notifyTx queues a NOTIFY for other processes; PostgreSQL delivers it when
// the transaction commits, and never if it rolls back.
func (s *Store) notifyTx(tx *gorm.DB, folderIDs []int64) error {
	if s.db.Dialect() != database.Postgres || len(folderIDs) == 0 {
		return nil
	}
	// Deduplicate, and stay under NOTIFY's 8000-byte payload limit.
	seen := map[int64]bool{}
	var ids []string
	size := 0
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		err := tx.Exec("SELECT pg_notify(?, ?)", pgChannel, strings.Join(ids, ",")).Error
		ids, size = ids[:0], 0
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		return nil
	}
	for _, id := range folderIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		v := strconv.FormatInt(id, 10)
		if size+len(v)+1 > 7000 {
			if err := flush(); err != nil {
				return err
			}
		}
		ids = append(ids, v)
		size += len(v) + 1
	}
	return flush()
}

// ListenPostgres relays other processes' notifications to this process's
// watchers until ctx ends, reconnecting after errors. Our own NOTIFYs come
// back too; watchers then find nothing new, which is harmless.
func (s *Store) ListenPostgres(ctx context.Context, url string) {
	for ctx.Err() == nil {
		err := s.listen(ctx, url)
		if ctx.Err() != nil {
			return
		}
		s.log.WarnContext(ctx, "listening for mail notifications failed; retrying", "err", err)
		// Wake every watcher: something may have changed while we
		// were not listening.
		s.notify.mu.Lock()
		var all []int64
		for id := range s.notify.watchers {
			all = append(all, id)
		}
		s.notify.mu.Unlock()
		s.notify.publish(all...)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listen(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		return err
	}
	s.log.DebugContext(ctx, "listening for mail notifications", slog.String("channel", pgChannel))
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var ids []int64
		for _, p := range strings.Split(n.Payload, ",") {
			if id, err := strconv.ParseInt(p, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		s.notify.publish(ids...)
	}
}
