package auth

import (
	"regexp"
	"strings"
	"testing"
)

var apiKeyRE = regexp.MustCompile(`^pd_[a-z2-7]{52}$`)

func TestNewAPIKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		key, prefix, hash, err := NewAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		if !apiKeyRE.MatchString(key) {
			t.Fatalf("key %q does not look like pd_ and 52 base32 characters", key)
		}
		if prefix != key[:APIKeyPrefixLen] || APIKeyPrefix(key) != prefix || len(prefix) != 12 {
			t.Fatalf("prefix %q, APIKeyPrefix %q, key %q", prefix, APIKeyPrefix(key), key)
		}
		if len(hash) != 64 || strings.Contains(hash, key) {
			t.Fatalf("hash %q is not a hex SHA-256", hash)
		}
		if !VerifyAPIKey(key, hash) {
			t.Fatal("VerifyAPIKey(key, its hash) = false")
		}
		if seen[key] || seen[prefix] {
			t.Fatal("key or prefix repeated")
		}
		seen[key], seen[prefix] = true, true
	}
}

func TestVerifyAPIKey(t *testing.T) {
	key, _, hash, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _, otherHash, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name       string
		key, store string
		want       bool
	}{
		{"match", key, hash, true},
		{"upper-case hex", key, strings.ToUpper(hash), true},
		{"other key", other, hash, false},
		{"other hash", key, otherHash, false},
		{"changed last character", flip(key, len(key)-1), hash, false},
		{"changed prefix", flip(key, 5), hash, false},
		{"truncated key", key[:len(key)-1], hash, false},
		{"empty key", "", hash, false},
		{"empty hash", key, "", false},
		{"hash not hex", key, strings.Repeat("z", 64), false},
		{"hash too short", key, hash[:62], false},
		{"hash too long", key, hash + "00", false},
		{"the key as its hash", key, key, false},
	}
	for _, tt := range tests {
		if got := VerifyAPIKey(tt.key, tt.store); got != tt.want {
			t.Errorf("%s: VerifyAPIKey = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAPIKeyPrefix(t *testing.T) {
	good := "pd_" + strings.Repeat("abcd", 13)
	tests := []struct {
		key, want string
	}{
		{good, "pd_abcdabcda"},
		{"", ""},
		{"pd_", ""},
		{"pd_abcdabcda", ""},                     // too short
		{good + "a", ""},                         // too long
		{"PD_" + strings.Repeat("abcd", 13), ""}, // wrong tag
		{"pd_" + strings.Repeat("ABCD", 13), ""}, // upper case
		{"pd_" + strings.Repeat("abc1", 13), ""}, // 1 is not base32
		{"xx_" + strings.Repeat("abcd", 13), ""}, // wrong tag
		{"pd_" + strings.Repeat("ab=d", 13), ""}, // padding
		{"pd_" + strings.Repeat("abcd", 12) + "abc\x00", ""},
	}
	for _, tt := range tests {
		if got := APIKeyPrefix(tt.key); got != tt.want {
			t.Errorf("APIKeyPrefix(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
