package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// API keys are bearer keys for the provisioning API: "pd_" followed by 32
// random bytes in lower-case base32 without padding (52 characters), so a key
// survives double-click selection, URLs and case-folding terminals.
//
// Only a SHA-256 hash of a key is stored. A slow password hash would add
// nothing: it protects guessable secrets against a dictionary search, and a
// key of 256 random bits cannot be guessed, so one fast hash already makes a
// leaked table useless while keeping each API request cheap.
const (
	apiKeyTag      = "pd_"
	apiKeyRandom   = 32
	apiKeyLen      = len(apiKeyTag) + 52
	apiKeyAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

	// APIKeyPrefixLen is the length of a key's lookup prefix: "pd_" and 9
	// characters (45 bits), enough to find a key's row among many while
	// revealing nothing that helps to guess the rest. Prefixes are not
	// unique by construction: look up every row with the prefix and
	// VerifyAPIKey each.
	APIKeyPrefixLen = len(apiKeyTag) + 9
)

// NewAPIKey returns a fresh key to show once, its lookup prefix (first
// characters, stored in clear for lookup), and the hash to store (hex SHA-256
// of the key; no slow hash is needed, see above).
func NewAPIKey() (key, prefix, hash string, err error) {
	b := make([]byte, apiKeyRandom)
	if _, err := rand.Read(b); err != nil {
		return "", "", "", fmt.Errorf("new API key: read random bytes: %w", err)
	}
	enc := base32.NewEncoding(strings.ToUpper(apiKeyAlphabet)).WithPadding(base32.NoPadding)
	key = apiKeyTag + strings.ToLower(enc.EncodeToString(b))
	return key, key[:APIKeyPrefixLen], hashAPIKey(key), nil
}

// APIKeyPrefix returns the lookup prefix of key, or "" when key is not
// shaped like a key NewAPIKey makes (so it matches no row).
func APIKeyPrefix(key string) string {
	if !wellFormedAPIKey(key) {
		return ""
	}
	return key[:APIKeyPrefixLen]
}

// VerifyAPIKey reports whether key hashes to storedHash, as NewAPIKey
// returned it, comparing in constant time.
func VerifyAPIKey(key, storedHash string) bool {
	want, err := hex.DecodeString(storedHash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

func hashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func wellFormedAPIKey(key string) bool {
	rest, ok := strings.CutPrefix(key, apiKeyTag)
	if !ok || len(key) != apiKeyLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(apiKeyAlphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}
