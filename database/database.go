// Package database opens Postdesk's one database, an embedded SQLite file or
// PostgreSQL, through gorm, and gives the rest of the code one way to write:
// DB.Write runs a transaction that is serialised on SQLite (so concurrent
// deliveries queue in Go instead of failing with SQLITE_BUSY) and a plain
// transaction on PostgreSQL.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the engine under a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL; empty means the embedded SQLite file.
	URL string
	// DataDir holds postdesk.db when URL is empty.
	DataDir string
	// Logger receives slow-query and error lines; nil discards them.
	Logger *slog.Logger
}

// DB is the opened database.
type DB struct {
	gorm    *gorm.DB
	dialect Dialect
	// writeMu serialises write transactions on SQLite, which allows one
	// writer at a time; other processes (the CLI beside serve) wait on the
	// busy timeout and BEGIN IMMEDIATE instead.
	writeMu sync.Mutex
}

// Open opens the database the config names.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	gcfg := &gorm.Config{
		Logger:                                   newLogger(cfg.Logger),
		DisableForeignKeyConstraintWhenMigrating: true,
		TranslateError:                           true,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
	}
	if cfg.URL == "" {
		dir := cfg.DataDir
		if dir == "" {
			dir = "data"
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		return openSQLite(ctx, filepath.Join(dir, "postdesk.db"), gcfg)
	}
	if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
		return nil, fmt.Errorf("database URL must start with postgres:// (got scheme %q)", schemeOf(cfg.URL))
	}
	g, err := gorm.Open(postgres.Open(cfg.URL), gcfg)
	if err != nil {
		return nil, fmt.Errorf("open postgresql: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open postgresql: %w", err)
	}
	sqlDB.SetMaxOpenConns(32)
	sqlDB.SetMaxIdleConns(16)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connect to postgresql: %w", err)
	}
	return &DB{gorm: g, dialect: Postgres}, nil
}

func schemeOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Scheme
}

func openSQLite(ctx context.Context, path string, gcfg *gorm.Config) (*DB, error) {
	// WAL lets readers run beside the writer; the busy timeout covers other
	// processes (the CLI beside serve). Write transactions begin with BEGIN
	// IMMEDIATE (see Write): the driver's _txlock parameter is ignored when
	// _time_format is given (glebarez/go-sqlite v1.21.2 returns early).
	dsn := "file:" + sqliteURIPath(path) + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(30000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_time_format=sqlite"
	g, err := gorm.Open(sqlite.Open(dsn), gcfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetMaxIdleConns(8)
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{gorm: g, dialect: SQLite}, nil
}

// sqliteURIPath escapes the characters that end or change a path in an
// SQLite URI filename (https://sqlite.org/uri.html): unescaped, a path
// with "#" (Go names repeated subtests "x#01") was cut there.
func sqliteURIPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// Dialect reports the engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// Read returns a gorm handle bound to ctx for queries. Writes go through Write.
func (db *DB) Read(ctx context.Context) *gorm.DB { return db.gorm.WithContext(ctx) }

// Write runs fn in one transaction: everything fn does is committed together
// or not at all.
func (db *DB) Write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.dialect != SQLite {
		return db.writePostgres(ctx, fn)
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return db.writeSQLite(ctx, fn)
}

// ErrCommitUnknown marks an error from COMMIT itself: the transaction may
// or may not have been committed (a connection lost at that moment), so
// callers must not undo its effects elsewhere (delete a blob, say).
var ErrCommitUnknown = errors.New("commit outcome unknown")

func (db *DB) writePostgres(ctx context.Context, fn func(tx *gorm.DB) error) (err error) {
	tx := db.gorm.WithContext(ctx).Begin()
	if tx.Error != nil {
		return fmt.Errorf("begin: %w", tx.Error)
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit: %w: %w", ErrCommitUnknown, err)
	}
	return nil
}

// writeSQLite runs fn in a BEGIN IMMEDIATE transaction on one pinned
// connection: the write lock is taken at BEGIN, waiting on the busy timeout
// if another process holds it, so a transaction never fails half-way with
// SQLITE_BUSY when a deferred read lock can't be upgraded.
func (db *DB) writeSQLite(ctx context.Context, fn func(tx *gorm.DB) error) (err error) {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// A panic or an error: roll back, on a fresh context so a
			// cancelled request still leaves the connection clean.
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	tx := db.gorm.WithContext(ctx).Session(&gorm.Session{NewDB: true, SkipDefaultTransaction: true})
	tx.Statement.ConnPool = conn
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w: %w", ErrCommitUnknown, err)
	}
	done = true
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return db.gorm.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}

// Close closes the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

type slogGormLogger struct {
	log *slog.Logger
}

func newLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return slogGormLogger{log: l}
}

func (g slogGormLogger) LogMode(logger.LogLevel) logger.Interface { return g }
func (g slogGormLogger) Info(ctx context.Context, msg string, args ...any) {
	g.log.DebugContext(ctx, fmt.Sprintf(msg, args...))
}
func (g slogGormLogger) Warn(ctx context.Context, msg string, args ...any) {
	g.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (g slogGormLogger) Error(ctx context.Context, msg string, args ...any) {
	g.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}

// Trace logs slow statements and errors other than "not found". gorm hands
// the statement with its values filled in, which may hold hashes or message
// data, so only the statement's first word is logged.
func (g slogGormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	el := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled):
		sql, _ := fc()
		g.log.DebugContext(ctx, "sql error", "err", err, "stmt", verb(sql), "elapsed", el)
	case el > time.Second:
		sql, rows := fc()
		g.log.WarnContext(ctx, "slow sql", "stmt", verb(sql), "rows", rows, "elapsed", el)
	}
}

func verb(sql string) string {
	f := strings.Fields(sql)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
