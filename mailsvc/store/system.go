package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
)

// The system mailbox holds postmaster mail that no domain and no
// administrator gave a mailbox to (tenants.Plan.System). Its messages are
// rows of their own, not of mail_messages: those belong to a tenant's
// mailbox, which logins reach, while these belong to no tenant and are read
// only through the methods below, which need a scope reaching every domain
// (administrators, the CLI). The blobs are shared with the other recipients
// of a delivery, as mail_messages rows share them.

// SystemMessage is one message in the system mailbox, with what a listing
// shows.
type SystemMessage struct {
	ID         int64
	BlobKey    string
	Prefix     string
	Size       int64
	ReceivedAt time.Time
	// From the blob's metadata row.
	Subject  string `gorm:"->"`
	FromAddr string `gorm:"->"`
	ToAddr   string `gorm:"->"`
}

// TableName is gorm's table name.
func (SystemMessage) TableName() string { return "system_messages" }

// systemTable keeps the blobs of the system mailbox alive (CollectGarbage).
const systemTable = "system_messages"

func systemScope(sc tenants.Scope) error {
	if !sc.AllDomains() {
		return fmt.Errorf("the system mailbox: %w", tenants.ErrForbidden)
	}
	return nil
}

func systemQuery(db *gorm.DB) *gorm.DB {
	return db.Table("system_messages AS m").
		Select("m.id, m.blob_key, m.prefix, m.size, m.received_at, b.subject, b.from_addr, b.to_addr").
		Joins("JOIN mail_blobs b ON b.blob_key = m.blob_key")
}

// SystemMessages lists the system mailbox, newest first, and the total.
func (s *Store) SystemMessages(ctx context.Context, sc tenants.Scope, limit, offset int) ([]SystemMessage, int64, error) {
	if err := systemScope(sc); err != nil {
		return nil, 0, err
	}
	var total int64
	if err := s.db.Read(ctx).Model(&SystemMessage{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count system messages: %w", err)
	}
	limit = min(max(limit, 1), 500)
	var ms []SystemMessage
	if err := systemQuery(s.db.Read(ctx)).Order("m.received_at DESC, m.id DESC").Limit(limit).Offset(max(offset, 0)).Scan(&ms).Error; err != nil {
		return nil, 0, fmt.Errorf("list system messages: %w", err)
	}
	return ms, total, nil
}

// SystemMessage returns one message of the system mailbox and a reader of
// it (prefix and body), which the caller closes. ErrNoMessage when there is
// no such message.
func (s *Store) SystemMessage(ctx context.Context, sc tenants.Scope, id int64) (*SystemMessage, *MessageReader, error) {
	if err := systemScope(sc); err != nil {
		return nil, nil, err
	}
	var ms []SystemMessage
	if err := systemQuery(s.db.Read(ctx)).Where("m.id = ?", id).Limit(1).Scan(&ms).Error; err != nil {
		return nil, nil, fmt.Errorf("read system message: %w", err)
	}
	if len(ms) == 0 {
		return nil, nil, ErrNoMessage
	}
	r, err := s.blobs.Open(ctx, ms[0].BlobKey)
	if err != nil {
		return nil, nil, fmt.Errorf("open system message %d: %w", id, err)
	}
	return &ms[0], newMessageReader(ms[0].Prefix, r), nil
}

// DeleteSystemMessage removes a message from the system mailbox, with an
// audit log entry; its blob goes with garbage collection once nothing else
// references it.
func (s *Store) DeleteSystemMessage(ctx context.Context, sc tenants.Scope, id int64) error {
	if err := systemScope(sc); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		var ms []SystemMessage
		if err := systemQuery(tx).Where("m.id = ?", id).Limit(1).Scan(&ms).Error; err != nil {
			return fmt.Errorf("read system message: %w", err)
		}
		if len(ms) == 0 {
			return ErrNoMessage
		}
		res := tx.Delete(&SystemMessage{}, id)
		if res.Error != nil {
			return fmt.Errorf("delete system message: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNoMessage
		}
		if s.audit == nil {
			return nil
		}
		m := &ms[0]
		return s.audit.RecordAuditTx(database.TxOf(tx), sc, nil, "systemmail.delete",
			fmt.Sprintf("message %d from %s: %s", m.ID, truncate(m.FromAddr, 200), truncate(m.Subject, 200)))
	})
}

// addSystemTx stores a delivery's copy for the system mailbox.
func (s *Store) addSystemTx(tx *gorm.DB, key, prefix string, size int64, at time.Time) error {
	m := SystemMessage{BlobKey: key, Prefix: prefix, Size: size + int64(len(prefix)), ReceivedAt: at.UTC()}
	if err := tx.Omit("Subject", "FromAddr", "ToAddr").Create(&m).Error; err != nil {
		return fmt.Errorf("insert system message: %w", err)
	}
	return nil
}

// systemUsage is the size and count of the system mailbox's messages. It
// sums its rows: the mailbox is bounded (tenants.SystemMailboxQuota), so
// the sum is too.
func (s *Store) systemUsage(ctx context.Context) (bytes, messages int64, err error) {
	var u struct{ Bytes, Messages int64 }
	err = s.db.Read(ctx).Model(&SystemMessage{}).Select("COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS messages").Scan(&u).Error
	if err != nil {
		return 0, 0, fmt.Errorf("read system mailbox usage: %w", err)
	}
	return u.Bytes, u.Messages, nil
}
