package panel

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/request"
)

// Import files wait on the server between their preview and their
// confirmation (request.ImportUploads), in the table made by migration 0043,
// for the session that uploaded them and at most importTTL. The form gets
// a random token; the table holds its SHA-256 and the file sealed with
// AES-256-GCM under a key derived from the token, so that, as with
// sessions, a copy of the database opens nothing. A file is removed once
// imported or when its session ends; expired ones are swept.
const importTTL = 30 * time.Minute

type importRow struct {
	IDHash      string `gorm:"primaryKey"`
	SessionHash string
	Domain      string
	Template    string
	Data        []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func (importRow) TableName() string { return "import_uploads" }

type importStore struct {
	db  *database.DB
	now func() time.Time
}

// importKeys derives from a token the row's id and the sealing key.
func importKeys(token string) (idHash string, key []byte) {
	id := sha256.Sum256([]byte("postdesk import id\x00" + token))
	k := sha256.Sum256([]byte("postdesk import key\x00" + token))
	return hex.EncodeToString(id[:]), k[:]
}

// importAAD binds the sealed file to its row: a file moved to another
// session, domain or template does not open.
func importAAD(r *importRow) []byte {
	return []byte(r.IDHash + "\x00" + r.SessionHash + "\x00" + r.Domain + "\x00" + r.Template)
}

func importCipher(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (st *importStore) keep(ctx context.Context, sessionHash string, u request.ImportUpload) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	idHash, key := importKeys(token)
	now := st.now().UTC()
	row := &importRow{IDHash: idHash, SessionHash: sessionHash, Domain: u.Domain, Template: u.Template, CreatedAt: now, ExpiresAt: now.Add(importTTL)}
	aead, err := importCipher(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	row.Data = aead.Seal(nonce, nonce, []byte(u.CSV), importAAD(row))
	err = st.db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", now).Delete(&importRow{}).Error; err != nil {
			return err
		}
		return tx.Create(row).Error
	})
	if err != nil {
		return "", fmt.Errorf("keep import file: %w", err)
	}
	return token, nil
}

func (st *importStore) load(ctx context.Context, sessionHash, token string) (request.ImportUpload, bool, error) {
	if token == "" || len(token) > 100 || sessionHash == "" {
		return request.ImportUpload{}, false, nil
	}
	idHash, key := importKeys(token)
	var row importRow
	err := st.db.Read(ctx).Where("id_hash = ? AND session_hash = ? AND expires_at > ?", idHash, sessionHash, st.now().UTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return request.ImportUpload{}, false, nil
	}
	if err != nil {
		return request.ImportUpload{}, false, fmt.Errorf("read import file: %w", err)
	}
	aead, err := importCipher(key)
	if err != nil {
		return request.ImportUpload{}, false, err
	}
	if len(row.Data) < aead.NonceSize() {
		return request.ImportUpload{}, false, errors.New("read import file: sealed data too short")
	}
	plain, err := aead.Open(nil, row.Data[:aead.NonceSize()], row.Data[aead.NonceSize():], importAAD(&row))
	if err != nil {
		return request.ImportUpload{}, false, fmt.Errorf("open import file: %w", err)
	}
	return request.ImportUpload{Domain: row.Domain, Template: row.Template, CSV: string(plain)}, true, nil
}

func (st *importStore) drop(ctx context.Context, sessionHash, token string) error {
	idHash, _ := importKeys(token)
	return st.db.Write(ctx, func(tx *gorm.DB) error {
		return tx.Where("id_hash = ? AND session_hash = ?", idHash, sessionHash).Delete(&importRow{}).Error
	})
}

// KeepImport keeps an import file for the request's session
// (request.ImportUploads).
func (s *Server) KeepImport(c echo.Context, u request.ImportUpload) (string, error) {
	h, _ := c.Get(sessionHashKey).(string)
	if h == "" {
		return "", errors.New("keep import file: no session")
	}
	return s.imports.keep(c.Request().Context(), h, u)
}

// ImportUpload returns the session's import file a token names
// (request.ImportUploads).
func (s *Server) ImportUpload(c echo.Context, token string) (request.ImportUpload, bool, error) {
	h, _ := c.Get(sessionHashKey).(string)
	return s.imports.load(c.Request().Context(), h, token)
}

// DropImport removes the session's import file a token names
// (request.ImportUploads).
func (s *Server) DropImport(c echo.Context, token string) error {
	h, _ := c.Get(sessionHashKey).(string)
	return s.imports.drop(c.Request().Context(), h, token)
}
