package migrations_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/migrations"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// tables are the tables the schema must hold, with key columns of each.
var tables = map[string][]string{
	"schema_migrations": {"version", "name", "applied_at"},
	"settings":          {"name", "value"},
	"domains": {"id", "name", "description", "active", "max_mailboxes", "max_aliases", "default_quota",
		"alias_of_id", "postmaster_mailbox_id", "created_at", "updated_at"},
	"mailboxes": {"id", "domain_id", "local_part", "full_name", "password_hash", "quota_bytes", "active", "store_mail",
		"may_send", "may_responder", "may_forward", "webmail", "postmaster", "expires_at", "expire_inactive_days",
		"last_login_at", "created_at", "updated_at", "credentials_version"},
	"addresses":         {"id", "domain_id", "local_part", "mailbox_id", "is_alias", "created_at"},
	"forwards":          {"id", "mailbox_id", "address"},
	"responders":        {"mailbox_id", "enabled", "subject", "body", "starts_at", "ends_at", "interval_days", "updated_at"},
	"responder_replies": {"mailbox_id", "sender", "sent_at"},
	"admins":            {"id", "name", "password_hash", "last_login_at", "created_at", "credentials_version"},
	"api_keys":          {"id", "prefix", "hash", "domain_id", "description", "created_at", "last_used_at"},
	"login_failures":    {"throttle_key", "failures", "last_at", "locked_until", "pending", "pending_at"},
	"audit_log":         {"id", "at", "actor", "remote_addr", "domain_id", "action", "detail"},
	"panel_sessions":    {"id_hash", "admin_id", "mailbox_id", "csrf", "expires_at", "credentials_version"},
	"import_uploads":    {"id_hash", "session_hash", "domain", "template", "data", "expires_at"},
}

func TestAll(t *testing.T) {
	ms, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range ms {
		if (i > 0 && m.Version <= ms[i-1].Version) || m.Version < 1 || m.Name == "" {
			t.Errorf("migration %d: version %d name %q", i, m.Version, m.Name)
		}
		for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
			sql := m.SQL(d)
			if strings.Contains(sql, "{{") || strings.Contains(sql, "}}") {
				t.Errorf("migration %d for %s keeps a placeholder", m.Version, d)
			}
			if strings.TrimSpace(sql) == "" {
				t.Errorf("migration %d for %s is empty", m.Version, d)
			}
		}
	}
	if got := migrations.Latest(); got != ms[len(ms)-1].Version {
		t.Errorf("Latest() = %d, want %d", got, ms[len(ms)-1].Version)
	}
	if ms[0].Name != "tenants" {
		t.Errorf("first migration %q, want tenants", ms[0].Name)
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		v, err := migrations.Version(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if v != migrations.Latest() || v < 1 {
			t.Errorf("Version = %d, want Latest() = %d", v, migrations.Latest())
		}
		for range 2 {
			applied, err := migrations.Apply(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != 0 {
				t.Errorf("re-run applied %v", applied)
			}
		}
		var n int64
		if err := db.Read(ctx).Table("schema_migrations").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != int64(count(t)) {
			t.Errorf("%d rows in schema_migrations, want %d", n, count(t))
		}
	})
}

// TestApplyFresh applies every migration to an empty database of each
// engine.
func TestApplyFresh(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			ctx := t.Context()
			var cfg database.Config
			if eng == database.SQLite {
				cfg.DataDir = t.TempDir()
			} else {
				cfg.URL = tenantstest.PostgresURL(t)
			}
			cfg.Logger = slog.New(slog.DiscardHandler)
			db, err := database.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.Read(ctx).Migrator().HasTable("schema_migrations") {
				t.Fatal("a fresh database has schema_migrations")
			}
			before := time.Now().UTC().Add(-time.Minute)
			applied, err := migrations.Apply(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != count(t) {
				t.Fatalf("applied %v, want all %d", applied, count(t))
			}
			for i, v := range applied {
				if i > 0 && v <= applied[i-1] {
					t.Errorf("applied %v out of order", applied)
				}
			}
			var rows []struct {
				Version   int
				Name      string
				AppliedAt time.Time
			}
			if err := db.Read(ctx).Table("schema_migrations").Order("version").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(applied) || rows[0].Name != "tenants" || rows[0].AppliedAt.Before(before) {
				t.Errorf("schema_migrations %+v", rows)
			}
			if v, err := migrations.Version(ctx, db); err != nil || v != migrations.Latest() {
				t.Errorf("Version = %d, %v", v, err)
			}
		})
	}
}

func TestSchemaTablesAndColumns(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		m := db.Read(t.Context()).Migrator()
		for table, cols := range tables {
			if !m.HasTable(table) {
				t.Errorf("table %s missing", table)
				continue
			}
			for _, c := range cols {
				if !m.HasColumn(table, c) {
					t.Errorf("column %s.%s missing", table, c)
				}
			}
			if m.HasColumn(table, "no_such_column") {
				t.Errorf("HasColumn finds anything in %s", table)
			}
		}
		if m.HasTable("no_such_table") {
			t.Error("HasTable finds anything")
		}
		for _, idx := range []struct{ table, name string }{
			{"mailboxes", "mailboxes_domain_name"},
			{"addresses", "addresses_mailbox"},
			{"audit_log", "audit_log_domain_at"},
		} {
			if !m.HasIndex(idx.table, idx.name) {
				t.Errorf("index %s on %s missing", idx.name, idx.table)
			}
		}
	})
}

// TestSchemaConstraints checks, below the tenants package, that the
// database itself refuses what the rules forbid.
func TestSchemaConstraints(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		g := db.Read(ctx)
		now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		exec := func(sql string, args ...any) error { return g.Exec(sql, args...).Error }
		mustExec := func(sql string, args ...any) {
			t.Helper()
			if err := exec(sql, args...); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		var domainA, domainB, mailbox int64
		mustExec("INSERT INTO domains (name, created_at, updated_at) VALUES (?, ?, ?)", "a.example", now, now)
		mustExec("INSERT INTO domains (name, created_at, updated_at) VALUES (?, ?, ?)", "b.example", now, now)
		g.Raw("SELECT id FROM domains WHERE name = ?", "a.example").Scan(&domainA)
		g.Raw("SELECT id FROM domains WHERE name = ?", "b.example").Scan(&domainB)
		mustExec("INSERT INTO mailboxes (domain_id, local_part, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", domainA, "john", "x", now, now)
		g.Raw("SELECT id FROM mailboxes WHERE local_part = ?", "john").Scan(&mailbox)
		if domainA == 0 || domainB == 0 || mailbox == 0 {
			t.Fatalf("ids %d %d %d", domainA, domainB, mailbox)
		}
		addAddress := "INSERT INTO addresses (domain_id, local_part, mailbox_id, is_alias, created_at) VALUES (?, ?, ?, ?, ?)"
		mustExec(addAddress, domainA, "john", mailbox, false, now)

		for _, c := range []struct {
			name string
			sql  string
			args []any
		}{
			{"address twice in a domain", addAddress, []any{domainA, "john", mailbox, true, now}},
			{"mailbox twice in a domain", "INSERT INTO mailboxes (domain_id, local_part, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
				[]any{domainA, "john", "y", now, now}},
			{"domain twice", "INSERT INTO domains (name, created_at, updated_at) VALUES (?, ?, ?)", []any{"a.example", now, now}},
			{"forward twice", "INSERT INTO forwards (mailbox_id, address) VALUES (?, ?), (?, ?)", []any{mailbox, "x@r.example", mailbox, "x@r.example"}},
			{"admin twice", "INSERT INTO admins (name, password_hash, created_at) VALUES (?, 'x', ?), (?, 'x', ?)", []any{"root", now, "root", now}},
			{"API key prefix twice", "INSERT INTO api_keys (prefix, hash, created_at) VALUES (?, 'x', ?), (?, 'y', ?)", []any{"pd_abc", now, "pd_abc", now}},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := exec(c.sql, c.args...)
				if err == nil {
					t.Fatal("accepted")
				}
				if !database.IsUniqueViolation(err) {
					t.Errorf("error %v is not a unique violation", err)
				}
			})
		}
		// The same local part in another domain is another address.
		mustExec(addAddress, domainB, "john", mailbox, true, now)

		// Foreign keys are enforced (SQLite needs its pragma for that).
		for _, c := range []struct {
			name string
			sql  string
			args []any
		}{
			{"mailbox of no domain", "INSERT INTO mailboxes (domain_id, local_part, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
				[]any{999999, "ghost", "x", now, now}},
			{"address of no mailbox", addAddress, []any{domainA, "ghost", 999999, false, now}},
			{"alias of no domain", "UPDATE domains SET alias_of_id = ? WHERE id = ?", []any{999999, domainB}},
		} {
			if err := exec(c.sql, c.args...); err == nil {
				t.Errorf("%s accepted", c.name)
			}
		}
		// Deleting a domain takes its mailboxes along, and with them their
		// addresses (also those in other domains) and forwards.
		mustExec("INSERT INTO forwards (mailbox_id, address) VALUES (?, ?)", mailbox, "x@r.example")
		mustExec("DELETE FROM domains WHERE id = ?", domainA)
		for _, table := range []string{"mailboxes", "addresses", "forwards"} {
			var n int64
			if err := g.Table(table).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d %s rows left after deleting their domain", n, table)
			}
		}
	})
}

// TestApplyConcurrent: processes starting at once (serve beside a CLI
// command, or several replicas) each call Apply on a fresh database; each
// migration must be applied once and no process may fail. Each process is
// one database.DB here.
//
// Expected to fail on both engines, for two different bugs:
//
// PostgreSQL: the doc of Apply promises that an advisory lock handles this,
// but the lock is taken only per migration, after Apply has run CREATE
// TABLE IF NOT EXISTS schema_migrations outside it (migrate.go), and
// concurrent CREATE TABLE IF NOT EXISTS fails with a unique violation on
// pg_type ("pg_type_typname_nsp_index"). Fix: take pg_advisory_xact_lock in
// that first transaction too.
//
// SQLite: database.Open's DSN asks for _txlock=immediate, but the driver
// (github.com/glebarez/go-sqlite v1.21.2, applyQueryParams) returns right
// after reading _time_format and never reads _txlock, so every transaction
// is BEGIN DEFERRED. A transaction that reads and then writes while another
// connection (another process: writeMu is per DB) committed in between
// fails at once with SQLITE_BUSY ("database is locked (5)" or (517)),
// without waiting on the busy timeout. This hits every read-then-write
// transaction of tenants too (CreateMailbox, recordFailure, ...) when the
// CLI runs beside serve.
func TestApplyConcurrent(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			for round := range 6 {
				var cfg database.Config
				if eng == database.SQLite {
					cfg.DataDir = t.TempDir()
				} else {
					cfg.URL = tenantstest.PostgresURL(t)
				}
				const processes = 6
				var dbs []*database.DB
				for range processes {
					db, err := database.Open(t.Context(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					dbs = append(dbs, db)
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				applied := make([][]int, processes)
				errs := make([]error, processes)
				for i, db := range dbs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						applied[i], errs[i] = migrations.Apply(t.Context(), db)
					}()
				}
				close(start)
				wg.Wait()
				total := 0
				for i, err := range errs {
					if err != nil {
						t.Errorf("round %d, process %d: %v", round, i, err)
					}
					total += len(applied[i])
				}
				if total != count(t) {
					t.Errorf("round %d: %d migrations applied in all, want each of %d once", round, total, count(t))
				}
				if v, err := migrations.Version(t.Context(), dbs[0]); err != nil || v != migrations.Latest() {
					t.Errorf("round %d: version %d, %v", round, v, err)
				}
			}
		})
	}
}

// count is the number of embedded migrations (versions may have gaps).
func count(t *testing.T) int {
	ms, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}
