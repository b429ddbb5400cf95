package tenants

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Errors of Signer.Verify.
var (
	// ErrBadToken: the token was not made by this server for this
	// purpose, or was changed.
	ErrBadToken = errors.New("invalid or forged link")
	// ErrTokenExpired: the token was made here but is past its expiry.
	ErrTokenExpired = errors.New("link expired")
)

// Signer makes and checks the signed tokens of links that act without a
// login: a list's one-click unsubscribe (RFC 8058), moderation links, and
// whatever later feature needs a link that proves itself. A token binds a
// purpose ("list-unsubscribe"), the values it acts on (a list, an
// address) and an expiry with an HMAC-SHA256 under one server secret kept
// in the database (table signing_secrets), so every process and restart
// accepts what the others made. A token is not secret from the address it
// was sent to, and can't be turned into another purpose, other values or a
// later expiry.
type Signer struct {
	key []byte
	now func() time.Time
}

type signerCache struct {
	mu sync.Mutex
	s  *Signer
}

const signerSecretName = "links"

var (
	b64 = base64.RawURLEncoding.Strict()
	b32 = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// Signer returns the server's token signer, made once per Service: its
// secret is read from the database, and made there at first use.
func (s *Service) Signer(ctx context.Context) (*Signer, error) {
	s.signer.mu.Lock()
	defer s.signer.mu.Unlock()
	if s.signer.s != nil {
		return s.signer.s, nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make link secret: %w", err)
	}
	var value string
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Table("signing_secrets").Clauses(clause.OnConflict{DoNothing: true}).
			Create(map[string]any{"name": signerSecretName, "value": hex.EncodeToString(b[:])}).Error; err != nil {
			return err
		}
		return tx.Table("signing_secrets").Where("name = ?", signerSecretName).Pluck("value", &value).Error
	})
	if err != nil {
		return nil, fmt.Errorf("load link secret: %w", err)
	}
	key, err := hex.DecodeString(value)
	if err != nil || len(key) < 16 {
		return nil, errors.New("link secret in signing_secrets is damaged")
	}
	s.signer.s = &Signer{key: key, now: s.clock}
	return s.signer.s, nil
}

// Sign returns a token for purpose over values, valid for ttl. The token
// holds only URL-safe characters and one dot.
func (g *Signer) Sign(purpose string, ttl time.Duration, values ...string) string {
	exp := g.now().Add(ttl).Unix()
	parts := append([]string{purpose, strconv.FormatInt(exp, 10)}, values...)
	payload := []byte(strings.Join(parts, "\x00"))
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(g.mac(payload))
}

// Verify checks a token made by Sign for purpose and returns its values:
// ErrBadToken when it is not one (forged, changed, made for another
// purpose), ErrTokenExpired when it is past its expiry.
func (g *Signer) Verify(token, purpose string) ([]string, error) {
	p, m, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return nil, ErrBadToken
	}
	payload, err1 := b64.DecodeString(p)
	mac, err2 := b64.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, g.mac(payload)) {
		return nil, ErrBadToken
	}
	parts := strings.Split(string(payload), "\x00")
	if len(parts) < 2 || parts[0] != purpose {
		return nil, ErrBadToken
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, ErrBadToken
	}
	if !g.now().Before(time.Unix(exp, 0)) {
		return nil, ErrTokenExpired
	}
	return parts[2:], nil
}

// Short is a short MAC of values for purpose (10 base32 characters, 50
// bits), for tokens that must fit in a local part, such as a list's VERP
// addresses: enough that nobody guesses one, not a key.
func (g *Signer) Short(purpose string, values ...string) string {
	sum := g.mac([]byte(purpose + "\x00" + strings.Join(values, "\x00")))
	return strings.ToLower(b32.EncodeToString(sum)[:10])
}

func (g *Signer) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, g.key)
	h.Write(payload)
	return h.Sum(nil)
}
