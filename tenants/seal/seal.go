// Package seal encrypts secrets Postdesk keeps in its database (the
// outbound queue's SMTP AUTH passwords, DKIM private keys) with AES-256-GCM
// under a key kept in a file in the data folder, not in the database, so
// that a copy of the database alone gives none of them away.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Sealer seals secrets under the key in its file. Each ciphertext is bound
// to what it belongs to (the smart host, a route's domain, a DKIM
// selector) as additional data, so ciphertexts can't be swapped between
// entries.
type Sealer struct {
	path string

	mu   sync.Mutex
	aead cipher.AEAD
}

const sealPrefix = "v1:"

// ErrNoKey is returned when no key file is configured.
var ErrNoKey = errors.New("no key file configured for stored credentials")

// New returns a Sealer with its key in the file at path, made (mode 0600)
// on first use.
func New(path string) *Sealer { return &Sealer{path: path} }

// load loads the key, making the file (mode 0600) on first use. Processes
// racing to make it agree through O_EXCL: the loser reads the winner's.
func (s *Sealer) load() (cipher.AEAD, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aead != nil {
		return s.aead, nil
	}
	if s.path == "" {
		return nil, ErrNoKey
	}
	raw, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = s.create()
	}
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("key file %s: want 64 hex digits", s.path)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", s.path, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", s.path, err)
	}
	s.aead = aead
	return aead, nil
}

func (s *Sealer) create() ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return nil, fmt.Errorf("make key folder: %w", err)
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("make key: %w", err)
	}
	text := []byte(hex.EncodeToString(key[:]) + "\n")
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(s.path)
	}
	if err != nil {
		return nil, fmt.Errorf("make key file: %w", err)
	}
	if _, err := f.Write(text); err != nil {
		f.Close()
		os.Remove(s.path)
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(s.path)
		return nil, fmt.Errorf("sync key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close key file: %w", err)
	}
	return text, nil
}

// Seal encrypts a secret for the entry named by owner.
func (s *Sealer) Seal(plain, owner string) (string, error) {
	aead, err := s.load()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	ct := aead.Seal(nonce, nonce, []byte(plain), []byte(owner))
	return sealPrefix + base64.StdEncoding.EncodeToString(ct), nil
}

// Open decrypts what Seal made for owner.
func (s *Sealer) Open(sealed, owner string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	aead, err := s.load()
	if err != nil {
		return "", err
	}
	b64, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", errors.New("stored credential: unknown format")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("stored credential: malformed")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(owner))
	if err != nil {
		// Never the secret or the key in the message.
		return "", errors.New("stored credential does not decrypt with the key file (was the key file replaced?)")
	}
	return string(plain), nil
}
