package database_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/postdesk/postdesk/database"
)

// A data folder whose name holds URI characters gets its database file
// there, not at a path cut short at "#" or "?".
func TestSQLiteOddDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#01?b%20c")
	db, err := database.Open(context.Background(), database.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Read(context.Background()).Exec("CREATE TABLE t (x INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postdesk.db")); err != nil {
		t.Fatalf("database file not in its folder: %v", err)
	}
}
