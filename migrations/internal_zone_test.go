package migrations_test

import (
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestInternalZoneColumn: mail_messages.internal_zone holds a zone's
// offset either way of UTC, and a row that names none (as every row from
// before the column) reads as UTC.
func TestInternalZoneColumn(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		g := db.Read(ctx)
		if !g.Migrator().HasColumn("mail_messages", "internal_zone") {
			t.Fatal("column mail_messages.internal_zone missing")
		}
		now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		mustExec := func(sql string, args ...any) {
			t.Helper()
			if err := g.Exec(sql, args...).Error; err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		var domain, mailbox, folder int64
		mustExec("INSERT INTO domains (name, created_at, updated_at) VALUES (?, ?, ?)", "a.example", now, now)
		g.Raw("SELECT id FROM domains WHERE name = ?", "a.example").Scan(&domain)
		mustExec("INSERT INTO mailboxes (domain_id, local_part, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			domain, "john", "x", now, now)
		g.Raw("SELECT id FROM mailboxes WHERE domain_id = ?", domain).Scan(&mailbox)
		mustExec("INSERT INTO mail_folders (mailbox_id, name, uid_validity, created_at) VALUES (?, ?, ?, ?)", mailbox, "INBOX", 1, now)
		g.Raw("SELECT id FROM mail_folders WHERE mailbox_id = ?", mailbox).Scan(&folder)
		mustExec("INSERT INTO mail_blobs (blob_key, size, created_at) VALUES (?, ?, ?)", "k", 1, now)
		insert := "INSERT INTO mail_messages (folder_id, mailbox_id, uid, modseq, internal_date, size, blob_key) VALUES (?, ?, ?, 1, ?, 1, 'k')"
		mustExec(insert, folder, mailbox, 1, now)
		mustExec(insert, folder, mailbox, 2, now)
		mustExec("UPDATE mail_messages SET internal_zone = ? WHERE uid = ?", -(3*3600 + 30*60), 2)
		var zones []int
		if err := g.Raw("SELECT internal_zone FROM mail_messages ORDER BY uid").Scan(&zones).Error; err != nil {
			t.Fatal(err)
		}
		if len(zones) != 2 || zones[0] != 0 || zones[1] != -12600 {
			t.Errorf("zones %v, want [0 -12600]", zones)
		}
	})
}
