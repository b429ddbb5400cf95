package pop3d

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/postdesk/postdesk/database"
)

// mailboxLocks keeps a mailbox to one POP3 session at a time (RFC 1939 8:
// the server should lock the maildrop), in this process and in others on
// the same database. A lock belongs to the process that holds it and goes
// with it: a process that dies leaves no lock behind, so the mailbox is
// free at once, not after a lease runs out.
//
//   - PostgreSQL: a session-level advisory lock (pg_try_advisory_lock) on
//     one database connection kept for the purpose, which ends, and with
//     it every lock on it, when the process does. Advisory locks are
//     database-wide, so the key carries the schema besides the mailbox.
//   - SQLite: an flock(2) on a file per mailbox beside the database file;
//     the kernel drops it when the process ends. flock also keeps two
//     processes on one file apart (two serve processes on one data
//     folder), as the lease table before it did.
//
// Within the process a map keeps sessions apart: an advisory lock is
// re-entrant on its connection.
type mailboxLocks struct {
	db  *database.DB
	log *slog.Logger

	mu   sync.Mutex
	held map[int64]*os.File // the mailboxes locked here; the lock file on SQLite

	// PostgreSQL: the connection that holds the locks, and the key's
	// first half, from the schema.
	conn  *sql.Conn
	class int32

	// SQLite: the folder of lock files; "" when not known yet.
	dir string
}

// lockTimeout bounds one statement on the lock connection. Past it, the
// driver closes the connection, which gives up every lock on it; the next
// lock call opens another and takes them again.
const lockTimeout = 30 * time.Second

func newMailboxLocks(db *database.DB, log *slog.Logger) *mailboxLocks {
	return &mailboxLocks{db: db, log: log, held: map[int64]*os.File{}}
}

// lock takes the mailbox's lock; it reports false when another session,
// here or in another process, holds it.
func (m *mailboxLocks) lock(ctx context.Context, mailboxID int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.held[mailboxID]; ok {
		return false, nil
	}
	var f *os.File
	var ok bool
	var err error
	if m.db.Dialect() == database.Postgres {
		ok, err = m.pgLock(ctx, mailboxID)
	} else {
		f, ok, err = m.fileLock(ctx, mailboxID)
	}
	if err != nil || !ok {
		return false, err
	}
	m.held[mailboxID] = f
	return true, nil
}

// unlock gives the mailbox's lock up.
func (m *mailboxLocks) unlock(mailboxID int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.held[mailboxID]
	if !ok {
		return
	}
	delete(m.held, mailboxID)
	if f != nil {
		f.Close() // drops the flock
	}
	if m.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
		defer cancel()
		var released bool
		if err := m.conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1, $2)", m.class, int32(mailboxID)).Scan(&released); err != nil {
			m.log.Warn("unlock mailbox: the lock connection failed; it is closed, with every lock on it", "err", err)
			m.dropConn()
		}
	}
}

// close gives every lock up.
func (m *mailboxLocks) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, f := range m.held {
		if f != nil {
			f.Close()
		}
		delete(m.held, id)
	}
	m.dropConn()
}

func (m *mailboxLocks) dropConn() {
	if m.conn != nil {
		m.conn.Close()
		m.conn = nil
	}
}

// pgLock takes the advisory lock; m.mu is held. The statement runs without
// the session's context: a cancelled statement closes the connection, and
// with it the locks of every other session.
func (m *mailboxLocks) pgLock(_ context.Context, mailboxID int64) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	if m.conn == nil {
		if err := m.connect(ctx); err != nil {
			return false, err
		}
	}
	// The mailbox ID is cut to 32 bits: two mailboxes 2^32 apart share a
	// lock, which at worst answers [IN-USE] wrongly.
	var ok bool
	err := m.conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1, $2)", m.class, int32(mailboxID)).Scan(&ok)
	if err != nil {
		m.dropConn()
		return false, fmt.Errorf("lock mailbox: %w", err)
	}
	return ok, nil
}

// connect opens the lock connection and takes again the locks of the
// sessions that held theirs on a connection that failed; m.mu is held.
func (m *mailboxLocks) connect(ctx context.Context) error {
	sqlDB, err := m.db.Read(ctx).DB()
	if err != nil {
		return fmt.Errorf("open the lock connection: %w", err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open the lock connection: %w", err)
	}
	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		conn.Close()
		return fmt.Errorf("open the lock connection: %w", err)
	}
	h := fnv.New32a()
	h.Write([]byte("postdesk pop3 " + schema))
	m.conn, m.class = conn, int32(h.Sum32())
	for id := range m.held {
		var ok bool
		err := m.conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1, $2)", m.class, int32(id)).Scan(&ok)
		if err != nil {
			m.dropConn()
			return fmt.Errorf("take the mailbox locks again: %w", err)
		}
		if !ok {
			m.log.Warn("a mailbox lock lost with its connection was taken by another process meanwhile", "mailbox", id)
		}
	}
	return nil
}

// fileLock takes the flock of the mailbox's lock file; m.mu is held.
func (m *mailboxLocks) fileLock(ctx context.Context, mailboxID int64) (*os.File, bool, error) {
	if m.dir == "" {
		// The folder of the database file ("main"); an in-memory
		// database has none, and one process: the map is enough.
		var rows []struct {
			Name string
			File string
		}
		if err := m.db.Read(ctx).Raw("PRAGMA database_list").Scan(&rows).Error; err != nil {
			return nil, false, fmt.Errorf("find the database file: %w", err)
		}
		for _, r := range rows {
			if r.Name == "main" && r.File != "" {
				m.dir = filepath.Join(filepath.Dir(r.File), "pop3-locks")
			}
		}
		if m.dir == "" {
			return nil, true, nil
		}
		if err := os.MkdirAll(m.dir, 0o750); err != nil {
			m.dir = ""
			return nil, false, fmt.Errorf("lock mailbox: %w", err)
		}
	}
	// The file stays when unlocked: removing it could let two processes
	// lock two files of one name.
	f, err := os.OpenFile(filepath.Join(m.dir, strconv.FormatInt(mailboxID, 10)), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, false, fmt.Errorf("lock mailbox: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock mailbox: %w", err)
	}
	return f, true, nil
}
