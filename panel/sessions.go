package panel

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
)

// Sessions live in the database, so that several Postdesk processes behind
// one address share them and a signed-out session is dead everywhere. The
// cookie holds a random id; the table holds only its SHA-256, so a copy of
// the database opens no session. The table is made by migration 0041.
type sessionStore struct {
	db  *database.DB
	now func() time.Time
	ttl time.Duration
}

// sessionRow is one signed-in session: an administrator's or a mailbox's.
type sessionRow struct {
	IDHash     string `gorm:"primaryKey"`
	AdminID    int64
	MailboxID  int64
	CSRF       string `gorm:"column:csrf"`
	Flash      string
	RemoteAddr string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// CredentialsVersion is the account's at sign-in; a password change
	// moves the account's on, which ends the session (migration 0042).
	CredentialsVersion int64
	// SecondFactorPending: the password was right, the second factor is
	// still to give (migration 0067); the session opens nothing else.
	SecondFactorPending bool
}

func (sessionRow) TableName() string { return "panel_sessions" }

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// create starts a session for a login and returns its cookie value. The
// session gets the CSRF token csrf, or a new one when csrf is "". Expired
// sessions are swept on the way.
func (st *sessionStore) create(ctx context.Context, l *tenants.Login, remote, csrf string) (string, *sessionRow, error) {
	return st.start(ctx, l, remote, csrf, false)
}

// pendingTTL bounds the time between a right password and its second
// factor.
const pendingTTL = 10 * time.Minute

// createPending starts the session of a sign-in whose second factor is
// still to give.
func (st *sessionStore) createPending(ctx context.Context, l *tenants.Login, remote string) (string, *sessionRow, error) {
	return st.start(ctx, l, remote, "", true)
}

func (st *sessionStore) start(ctx context.Context, l *tenants.Login, remote, csrf string, pending bool) (string, *sessionRow, error) {
	id, err := randomToken()
	if err != nil {
		return "", nil, err
	}
	if csrf == "" {
		if csrf, err = randomToken(); err != nil {
			return "", nil, err
		}
	}
	now := st.now().UTC()
	row := &sessionRow{IDHash: hashID(id), CSRF: csrf, RemoteAddr: remote, CreatedAt: now, ExpiresAt: now.Add(st.ttl), SecondFactorPending: pending}
	if pending {
		row.ExpiresAt = now.Add(min(st.ttl, pendingTTL))
	}
	if l.Admin != nil {
		row.AdminID = l.Admin.ID
	} else {
		row.MailboxID = l.Mailbox.ID
	}
	row.CredentialsVersion = credentialsVersion(l)
	err = st.db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", now).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		return tx.Create(row).Error
	})
	if err != nil {
		return "", nil, fmt.Errorf("store session: %w", err)
	}
	return id, row, nil
}

// credentialsVersion is the login's account's credentials version.
func credentialsVersion(l *tenants.Login) int64 {
	if l.Admin != nil {
		return l.Admin.CredentialsVersion
	}
	return l.Mailbox.CredentialsVersion
}

// load returns the live session a cookie value names, nil if none.
func (st *sessionStore) load(ctx context.Context, id string) (*sessionRow, error) {
	if id == "" || len(id) > 100 {
		return nil, nil
	}
	var row sessionRow
	err := st.db.Read(ctx).Where("id_hash = ? AND expires_at > ?", hashID(id), st.now().UTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	return &row, nil
}

// destroy ends a session, with the import files it kept.
func (st *sessionStore) destroy(ctx context.Context, idHash string) error {
	return st.db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("session_hash = ?", idHash).Delete(&importRow{}).Error; err != nil {
			return err
		}
		return tx.Where("id_hash = ?", idHash).Delete(&sessionRow{}).Error
	})
}

// setFlash keeps a message for the session's next page.
func (st *sessionStore) setFlash(ctx context.Context, idHash, msg string) error {
	return st.db.Write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&sessionRow{}).Where("id_hash = ?", idHash).Update("flash", msg).Error
	})
}

// sessionRef names a session on its owner's page without giving its id
// (or the stored hash): a hash of the hash, shortened.
func sessionRef(idHash string) string {
	h := sha256.Sum256([]byte("ref:" + idHash))
	return hex.EncodeToString(h[:8])
}

// ofMailbox lists the live, signed-in sessions of a mailbox.
func (st *sessionStore) ofMailbox(ctx context.Context, mailboxID int64) ([]sessionRow, error) {
	var rows []sessionRow
	err := st.db.Read(ctx).Where("mailbox_id = ? AND expires_at > ? AND second_factor_pending = ?", mailboxID, st.now().UTC(), false).
		Order("created_at DESC").Limit(200).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return rows, nil
}
