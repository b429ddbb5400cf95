package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/database"
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
