// Package backup takes a consistent online backup of Postdesk's database,
// message blobs and data-folder keys into a folder, and restores one onto
// an empty data folder and database.
//
// Layout of a backup folder DIR:
//
//	DIR/blobs/ab/cd/KEY   message blobs, kept between runs (incremental)
//	DIR/snapshot/         the latest database snapshot and keys:
//	  manifest.json       engine, schema version, tables, blobs with sizes and SHA-256
//	  postdesk.db         SQLite: the VACUUM INTO copy
//	  tables/NAME.jsonl   PostgreSQL: one JSON object per row (row_to_json)
//	  keys/...            the data folder's files but the database and blobs
//	                      (dkim.key, queue.key, tls/)
//
// A run writes the snapshot to DIR/.partial and renames it into place only
// when everything (blobs included) is copied and synced.
package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/postdesk/postdesk/database"
)

// Manifest describes one snapshot.
type Manifest struct {
	Engine  database.Dialect `json:"engine"`
	Version int              `json:"schema_version"`
	Taken   time.Time        `json:"taken"`
	// Format names how the database is stored: "sqlite-vacuum-into" or
	// "postgres-jsonl" (one REPEATABLE READ READ ONLY transaction).
	Format string          `json:"format"`
	Tables map[string]int  `json:"tables,omitempty"` // PostgreSQL: rows per table
	Blobs  map[string]Blob `json:"blobs"`
	Keys   []string        `json:"keys"`
}

// Blob is one copied message blob.
type Blob struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

const migrationsTable = "schema_migrations"

// Backup writes a snapshot of db and dataDir into dir. Blobs are copied
// before and after the database is read: every blob a snapshot row names
// was committed before its row, so it is copied by the second pass unless
// deleted in between, and the first pass (the bulk of the copying) has
// already copied those that existed before the snapshot.
func Backup(ctx context.Context, db *database.DB, dataDir, dir string) (*Manifest, error) {
	partial := filepath.Join(dir, ".partial")
	if err := os.RemoveAll(partial); err != nil {
		return nil, fmt.Errorf("clear %s: %w", partial, err)
	}
	if err := os.MkdirAll(partial, 0o750); err != nil {
		return nil, fmt.Errorf("make backup folder: %w", err)
	}
	m := &Manifest{Engine: db.Dialect(), Taken: time.Now().UTC(), Blobs: map[string]Blob{}}
	if err := db.Read(ctx).Raw("SELECT COALESCE(MAX(version), 0) FROM " + migrationsTable).Scan(&m.Version).Error; err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	blobSrc, blobDst := filepath.Join(dataDir, "blobs"), filepath.Join(dir, "blobs")
	if err := copyBlobs(ctx, blobSrc, blobDst, m.Blobs); err != nil {
		return nil, err
	}
	var err error
	if db.Dialect() == database.SQLite {
		m.Format = "sqlite-vacuum-into"
		err = backupSQLite(ctx, db, filepath.Join(partial, "postdesk.db"))
	} else {
		m.Format = "postgres-jsonl"
		m.Tables, err = backupPostgres(ctx, db, filepath.Join(partial, "tables"))
	}
	if err != nil {
		return nil, err
	}
	if m.Keys, err = copyKeys(dataDir, filepath.Join(partial, "keys")); err != nil {
		return nil, err
	}
	if err := copyBlobs(ctx, blobSrc, blobDst, m.Blobs); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(partial, "manifest.json"), m); err != nil {
		return nil, err
	}
	// Swap the finished snapshot in: the old one goes aside first so a
	// crash leaves either the old or the new one under a known name.
	snap, old := filepath.Join(dir, "snapshot"), filepath.Join(dir, ".old")
	os.RemoveAll(old)
	if err := os.Rename(snap, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("set old snapshot aside: %w", err)
	}
	if err := os.Rename(partial, snap); err != nil {
		return nil, fmt.Errorf("put snapshot in place: %w", err)
	}
	os.RemoveAll(old)
	return m, syncDir(dir)
}

func backupSQLite(ctx context.Context, db *database.DB, path string) error {
	// VACUUM INTO writes a consistent copy from one read transaction
	// (https://sqlite.org/lang_vacuum.html#vacuuminto); WAL writers go on.
	if err := db.Read(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("sqlite VACUUM INTO: %w", err)
	}
	return syncFile(path)
}

// backupPostgres dumps every table of the current schema from one
// REPEATABLE READ READ ONLY transaction: one snapshot for all of them.
func backupPostgres(ctx context.Context, db *database.DB, dir string) (map[string]int, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("make tables folder: %w", err)
	}
	sqlDB, err := db.Read(ctx).DB()
	if err != nil {
		return nil, err
	}
	tx, err := sqlDB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback()
	tables, err := pgTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, t := range tables {
		n, err := dumpTable(ctx, tx, t, filepath.Join(dir, t+".jsonl"))
		if err != nil {
			return nil, err
		}
		counts[t] = n
	}
	return counts, nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func pgTables(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func dumpTable(ctx context.Context, tx *sql.Tx, table, path string) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("dump %s: %w", table, err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %s AS t`, quoteIdent(table)))
	if err != nil {
		return 0, fmt.Errorf("dump %s: %w", table, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return n, fmt.Errorf("dump %s: %w", table, err)
		}
		w.WriteString(line)
		w.WriteByte('\n')
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("dump %s: %w", table, err)
	}
	if err := w.Flush(); err != nil {
		return n, fmt.Errorf("dump %s: %w", table, err)
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("dump %s: %w", table, err)
	}
	return n, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// keyFile reports whether a data-folder entry is copied with the keys:
// everything but the database files and the blob folder.
func keyFile(rel string) bool {
	top := strings.Split(filepath.ToSlash(rel), "/")[0]
	return top != "blobs" && top != "postdesk.db" && !strings.HasPrefix(top, "postdesk.db-")
}

func copyKeys(dataDir, dst string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dataDir, p)
		if rel == "." {
			return nil
		}
		if !keyFile(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if _, _, err := copyFile(p, filepath.Join(dst, rel)); err != nil {
			return err
		}
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy keys: %w", err)
	}
	return keys, nil
}

// copyBlobs copies the blobs not yet in dst (or there with another size or
// hash), and records every blob in into.
func copyBlobs(ctx context.Context, src, dst string, into map[string]Blob) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == src {
				return filepath.SkipDir
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == "tmp" {
				return filepath.SkipDir // blobs being written, not committed
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		target := filepath.Join(dst, rel)
		sum, size, err := hashFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted since the walk listed it
		}
		if err != nil {
			return err
		}
		if have, hsize, err := hashFile(target); err != nil || have != sum || hsize != size {
			got, n, err := copyFile(p, target)
			if err != nil {
				return err
			}
			if got != sum || n != size {
				return fmt.Errorf("blob %s changed while copied", d.Name())
			}
		}
		into[d.Name()] = Blob{Size: size, SHA256: sum}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy blobs: %w", err)
	}
	return nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// copyFile copies src to dst through a temporary file, synced and renamed,
// and returns the SHA-256 and size of what it wrote.
func copyFile(src, dst string) (string, int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", 0, fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("copy %s: %w", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", 0, fmt.Errorf("copy %s: %w", src, err)
	}
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return "", 0, fmt.Errorf("copy %s: %w", src, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return "", 0, fmt.Errorf("copy %s: %w", src, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncFile(path)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error { return syncFile(dir) }

// ReadManifest reads the snapshot's manifest in dir.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "snapshot", "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return &m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Verify checks that every blob the manifest in dir lists is in dir with
// its size and SHA-256, and that the snapshot's database is there.
func Verify(ctx context.Context, dir string) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	snap := filepath.Join(dir, "snapshot")
	if m.Engine == database.SQLite {
		if _, err := os.Stat(filepath.Join(snap, "postdesk.db")); err != nil {
			return m, fmt.Errorf("verify: %w", err)
		}
	}
	for t := range m.Tables {
		if _, err := os.Stat(filepath.Join(snap, "tables", t+".jsonl")); err != nil {
			return m, fmt.Errorf("verify: %w", err)
		}
	}
	for _, key := range sortedKeys(m.Blobs) {
		if ctx.Err() != nil {
			return m, ctx.Err()
		}
		if len(key) < 4 {
			return m, fmt.Errorf("verify: bad blob key %q", key)
		}
		sum, n, err := hashFile(filepath.Join(dir, "blobs", key[:2], key[2:4], key))
		if err != nil {
			return m, fmt.Errorf("verify blob %s: %w", key, err)
		}
		if want := m.Blobs[key]; sum != want.SHA256 || n != want.Size {
			return m, fmt.Errorf("verify blob %s: size or SHA-256 differs from the manifest", key)
		}
	}
	return m, nil
}
