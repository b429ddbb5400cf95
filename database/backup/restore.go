package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
)

// ErrNotEmpty is returned by a restore onto a data folder or database that
// holds something.
var ErrNotEmpty = errors.New("not empty")

// CheckEmptyDir fails unless dataDir is missing or holds nothing.
func CheckEmptyDir(dataDir string) error {
	ents, err := os.ReadDir(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read data folder: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("data folder %s: %w (restore only onto an empty one)", dataDir, ErrNotEmpty)
	}
	return nil
}

// CheckEmptyDB fails unless the database's schema has no tables, or only
// empty domains, mailboxes and messages (a migrated schema with nothing
// in it). Call it before migrating.
func CheckEmptyDB(ctx context.Context, db *database.DB) error {
	for _, t := range []string{"domains", "mailboxes", "mail_messages"} {
		if !db.Read(ctx).Migrator().HasTable(t) {
			continue
		}
		var n int64
		if err := db.Read(ctx).Table(t).Count(&n).Error; err != nil {
			return fmt.Errorf("count %s: %w", t, err)
		}
		if n > 0 {
			return fmt.Errorf("database table %s has %d rows: %w (restore only onto an empty database)", t, n, ErrNotEmpty)
		}
	}
	return nil
}

// RestoreFiles copies the snapshot's keys and blobs (each checked against
// the manifest) into dataDir, and on SQLite its database file.
func RestoreFiles(ctx context.Context, dir, dataDir string, m *Manifest) error {
	snap := filepath.Join(dir, "snapshot")
	for _, k := range m.Keys {
		if _, _, err := copyFile(filepath.Join(snap, "keys", filepath.FromSlash(k)), filepath.Join(dataDir, filepath.FromSlash(k))); err != nil {
			return fmt.Errorf("restore key: %w", err)
		}
	}
	for _, key := range sortedKeys(m.Blobs) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(key) < 4 {
			return fmt.Errorf("restore blob: bad key %q in manifest", key)
		}
		rel := filepath.Join(key[:2], key[2:4], key)
		sum, n, err := copyFile(filepath.Join(dir, "blobs", rel), filepath.Join(dataDir, "blobs", rel))
		if err != nil {
			return fmt.Errorf("restore blob: %w", err)
		}
		if want := m.Blobs[key]; sum != want.SHA256 || n != want.Size {
			return fmt.Errorf("restore blob %s: size or SHA-256 differs from the manifest", key)
		}
	}
	if m.Engine == database.SQLite {
		if _, _, err := copyFile(filepath.Join(snap, "postdesk.db"), filepath.Join(dataDir, "postdesk.db")); err != nil {
			return fmt.Errorf("restore database: %w", err)
		}
	}
	return nil
}

// RestorePostgres loads the snapshot's tables into db, whose schema has
// been migrated to the snapshot's version (and is empty: CheckEmptyDB), in
// one transaction. Rows go in with triggers and foreign-key checks off
// (session_replication_role, which needs a superuser or the table owner's
// REPLICATION right) since tables load in name order; then every serial or
// identity sequence is set past the highest id.
func RestorePostgres(ctx context.Context, db *database.DB, dir string, m *Manifest) error {
	if m.Engine != database.Postgres {
		return fmt.Errorf("the backup is of %s, the database is PostgreSQL", m.Engine)
	}
	return db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL session_replication_role = replica").Error; err != nil {
			return fmt.Errorf("turn off foreign-key checks for the load: %w", err)
		}
		for _, t := range sortedKeys(m.Tables) {
			if t == migrationsTable {
				continue
			}
			if err := loadTable(tx, t, filepath.Join(dir, "snapshot", "tables", t+".jsonl")); err != nil {
				return err
			}
		}
		var cols []struct{ Tbl, Col string }
		if err := tx.Raw(`SELECT table_name AS tbl, column_name AS col FROM information_schema.columns
			WHERE table_schema = current_schema() AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')`).Scan(&cols).Error; err != nil {
			return fmt.Errorf("list sequences: %w", err)
		}
		for _, c := range cols {
			q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)", quoteIdent(c.Col), quoteIdent(c.Tbl))
			if err := tx.Exec(q, quoteIdent(c.Tbl), c.Col).Error; err != nil {
				return fmt.Errorf("set the sequence of %s.%s: %w", c.Tbl, c.Col, err)
			}
		}
		return nil
	})
}

func loadTable(tx *gorm.DB, table, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	defer f.Close()
	// Rows the migrations seeded give way to the backup's.
	if err := tx.Exec("DELETE FROM " + quoteIdent(table)).Error; err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	q := fmt.Sprintf("INSERT INTO %[1]s SELECT * FROM json_populate_record(NULL::%[1]s, ?::json)", quoteIdent(table))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		if err := tx.Exec(q, sc.Text()).Error; err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	return nil
}
