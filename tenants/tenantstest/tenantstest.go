// Package tenantstest gives tests a migrated database on each engine:
// SQLite in a temporary folder always, and PostgreSQL when
// POSTDESK_TEST_DATABASE_URL names a server (each test gets a fresh schema
// there). Under CI=true a missing PostgreSQL fails the test instead of
// skipping it.
package tenantstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/migrations"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/auth"
	"github.com/postdesk/postdesk/tenants/seal"
)

// EnvURL names the PostgreSQL server tests use.
const EnvURL = "POSTDESK_TEST_DATABASE_URL"

// Engines are the names ForEachEngine runs under.
var Engines = []database.Dialect{database.SQLite, database.Postgres}

var pgNotice sync.Once

// ForEachEngine runs fn as a subtest on SQLite and on PostgreSQL, each with
// a fresh, migrated database.
func ForEachEngine(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, eng := range Engines {
		t.Run(string(eng), func(t *testing.T) {
			fn(t, Open(t, eng))
		})
	}
}

// Open returns a fresh, migrated database of one engine, closed when the
// test ends.
func Open(t testing.TB, eng database.Dialect) *database.DB {
	t.Helper()
	ctx := context.Background()
	var cfg database.Config
	switch eng {
	case database.SQLite:
		cfg.DataDir = t.TempDir()
	case database.Postgres:
		cfg.URL = PostgresURL(t)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := database.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", eng, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := migrations.Apply(ctx, db); err != nil {
		t.Fatalf("migrate %s: %v", eng, err)
	}
	return db
}

// PostgresURL makes a fresh schema on the test server and returns a URL
// whose search_path points at it; the schema is dropped after the test.
// Without a server it skips the test, or fails it under CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: PostgreSQL must be tested in CI", EnvURL)
		}
		pgNotice.Do(func() {
			fmt.Fprintf(os.Stderr, "PostgreSQL not tested: set %s (see .ci/run)\n", EnvURL)
		})
		t.Skipf("PostgreSQL not tested: %s not set", EnvURL)
	}
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	sqlDB, _ := admin.DB()
	defer sqlDB.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			return
		}
		if s, err := a.DB(); err == nil {
			defer s.Close()
		}
		a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Service returns a tenants service on db with a cheap password hash and no
// login delays, so tests stay fast.
func Service(db *database.DB, now func() time.Time) *tenants.Service {
	return tenants.New(db, options(now))
}

// SealedService is Service that also seals DKIM keys (tenants.Sealer),
// under a key file in a temp folder of the test.
func SealedService(t testing.TB, db *database.DB, now func() time.Time) *tenants.Service {
	o := options(now)
	o.Sealer = seal.New(filepath.Join(t.TempDir(), "dkim.key"))
	return tenants.New(db, o)
}

func options(now func() time.Time) tenants.Options {
	th := tenants.DefaultThrottle()
	th.BaseDelay, th.MaxDelay = time.Millisecond, time.Millisecond
	return tenants.Options{Hasher: auth.TestHasher(), Now: now, Throttle: th}
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Migrate brings an opened database to the latest schema.
func Migrate(t testing.TB, db *database.DB) {
	t.Helper()
	if _, err := migrations.Apply(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}
