package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/database/backup"
	"github.com/postdesk/postdesk/migrations"
)

// runBackup: backup DIR | backup verify DIR.
func runBackup(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) == 2 && pos[0] == "verify" {
		m, err := backup.Verify(ctx, pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "backup %s verified: %s, schema version %d, %d blobs, taken %s\n",
			pos[1], m.Format, m.Version, len(m.Blobs), m.Taken.Format("2006-01-02 15:04:05Z"))
		return nil
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: backup DIR | backup verify DIR")
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	m, err := backup.Backup(ctx, a.db, a.cfg.DataDir, pos[0])
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(a.stdout, "backup in %s: %s, schema version %d, %d blobs\n", pos[0], m.Format, m.Version, len(m.Blobs))
	return nil
}

// runRestore: restore DIR onto an empty data folder and database.
func runRestore(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: restore DIR")
	}
	dir := pos[0]
	m, err := backup.Verify(ctx, dir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	want := database.SQLite
	if a.cfg.DatabaseURL != "" {
		want = database.Postgres
	}
	if m.Engine != want {
		return fmt.Errorf("restore: the backup is of %s, the configured database is %s", m.Engine, want)
	}
	if m.Version != migrations.Latest() {
		return fmt.Errorf("restore: the backup is at schema version %d, this postdesk at %d: restore with the version that took it, then upgrade",
			m.Version, migrations.Latest())
	}
	if err := backup.CheckEmptyDir(a.cfg.DataDir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Look at the database before anything is written anywhere.
	var db *database.DB
	if want == database.Postgres {
		db, err = database.Open(ctx, database.Config{URL: a.cfg.DatabaseURL})
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer db.Close()
		if err := backup.CheckEmptyDB(ctx, db); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := backup.RestoreFiles(ctx, dir, a.cfg.DataDir, m); err != nil {
		clearDir(a.cfg.DataDir)
		return fmt.Errorf("restore: %w", err)
	}
	if db != nil {
		if _, err := migrations.Apply(ctx, db); err != nil {
			clearDir(a.cfg.DataDir)
			return fmt.Errorf("restore: migrate: %w", err)
		}
		if err := backup.RestorePostgres(ctx, db, dir, m); err != nil {
			clearDir(a.cfg.DataDir)
			return fmt.Errorf("restore: %w", err)
		}
	}
	// Migrations run as on every start (none are due at the same version).
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	fmt.Fprintf(a.stdout, "restored %s into %s: %d blobs\n", dir, a.cfg.DataDir, len(m.Blobs))
	return nil
}

// clearDir empties the data folder a failed restore wrote into (it was
// empty before: CheckEmptyDir).
func clearDir(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
