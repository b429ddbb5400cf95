package auth

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHash(t *testing.T) {
	tests := []struct {
		name      string
		h         Hasher
		wantParam string // m=…,t=…,p=…
		saltLen   int
		keyLen    int
	}{
		{"default", DefaultHasher(), "m=19456,t=2,p=1", 16, 32},
		{"test", TestHasher(), "m=8,t=1,p=1", 8, 16},
		{"custom", Hasher{Time: 3, MemoryKiB: 64, Threads: 2, KeyLen: 64, SaltLen: 32}, "m=64,t=3,p=2", 32, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pw := range []string{pwHorse, pwUmlaut, "", strings.Repeat("ä", 512)} {
				stored, err := tt.h.Hash(pw)
				if err != nil {
					t.Fatalf("Hash: %v", err)
				}
				m := phcRE.FindStringSubmatch(stored)
				if m == nil {
					t.Fatalf("Hash = %q, not a PHC argon2id string", stored)
				}
				if got := "m=" + m[1] + ",t=" + m[2] + ",p=" + m[3]; got != tt.wantParam {
					t.Errorf("parameters %s, want %s", got, tt.wantParam)
				}
				salt, err1 := base64.RawStdEncoding.DecodeString(m[4])
				key, err2 := base64.RawStdEncoding.DecodeString(m[5])
				if err1 != nil || err2 != nil || len(salt) != tt.saltLen || len(key) != tt.keyLen {
					t.Errorf("salt %d bytes (%v), key %d bytes (%v); want %d and %d", len(salt), err1, len(key), err2, tt.saltLen, tt.keyLen)
				}
				if got, err := ParseImportedHash(stored); err != nil || got != stored {
					t.Errorf("ParseImportedHash(own hash) = %q, %v", got, err)
				}

				ok, rehash, err := tt.h.Verify(stored, pw)
				if err != nil || !ok || rehash {
					t.Errorf("Verify(own hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
				}
				ok, rehash, err = tt.h.Verify(stored, pw+"x")
				if err != nil || ok || rehash {
					t.Errorf("Verify(own hash, wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
				}
			}
		})
	}
}

func TestHashSalted(t *testing.T) {
	h := TestHasher()
	a, err1 := h.Hash(pwHorse)
	b, err2 := h.Hash(pwHorse)
	if err1 != nil || err2 != nil || a == b {
		t.Fatalf("two hashes of one password: %q, %q (%v, %v); want different salts", a, b, err1, err2)
	}
}

func TestHashTooLong(t *testing.T) {
	if _, err := TestHasher().Hash(strings.Repeat("x", 1025)); err == nil {
		t.Fatal("Hash of 1025 bytes: no error")
	}
	stored, err := TestHasher().Hash(strings.Repeat("x", 1024))
	if err != nil {
		t.Fatalf("Hash of 1024 bytes: %v", err)
	}
	// Longer passwords never match, not even by a prefix.
	ok, _, err := TestHasher().Verify(stored, strings.Repeat("x", 1025))
	if ok || err != nil {
		t.Errorf("Verify of 1025 bytes = %v, %v; want false, nil", ok, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		h    Hasher
		ok   bool
	}{
		{"default", DefaultHasher(), true},
		{"test", TestHasher(), true},
		{"zero", Hasher{}, false},
		{"no time", Hasher{Time: 0, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}, false},
		{"time too high", Hasher{Time: 33, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}, false},
		{"no threads", Hasher{Time: 1, MemoryKiB: 64, Threads: 0, KeyLen: 32, SaltLen: 16}, false},
		{"memory below 8 KiB per thread", Hasher{Time: 1, MemoryKiB: 31, Threads: 4, KeyLen: 32, SaltLen: 16}, false},
		{"memory 8 KiB per thread", Hasher{Time: 1, MemoryKiB: 32, Threads: 4, KeyLen: 32, SaltLen: 16}, true},
		{"memory above 1 GiB", Hasher{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1, KeyLen: 32, SaltLen: 16}, false},
		{"short key", Hasher{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 15, SaltLen: 16}, false},
		{"long key", Hasher{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 129, SaltLen: 16}, false},
		{"short salt", Hasher{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 7}, false},
		{"long salt", Hasher{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 65}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if tt.ok {
				return
			}
			if _, err := tt.h.Hash("x"); err == nil {
				t.Error("Hash with invalid parameters: no error")
			}
			if _, _, err := tt.h.Verify("{SHA}q/eq1kOINtvlJqojGr3i0O73TUI=", pwHorse); err == nil {
				t.Error("Verify with invalid parameters: no error")
			}
			tt.h.Dummy("x") // must not panic
		})
	}
}

func TestDefaultHasherOWASP(t *testing.T) {
	// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
	h := DefaultHasher()
	if h.MemoryKiB != 19*1024 || h.Time != 2 || h.Threads != 1 || h.KeyLen < 32 || h.SaltLen < 16 {
		t.Fatalf("DefaultHasher() = %+v", h)
	}
}

func TestVerifyRehash(t *testing.T) {
	def := DefaultHasher()
	hashWith := func(h Hasher) string {
		t.Helper()
		s, err := h.Hash(pwHorse)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stronger := def
	stronger.MemoryKiB *= 2
	moreTime := def
	moreTime.Time++
	moreThreads := def
	moreThreads.Threads = 2
	moreThreads.MemoryKiB = 2 * def.MemoryKiB
	longerKey := def
	longerKey.KeyLen = 64
	longerSalt := def
	longerSalt.SaltLen = 32
	shorterKey := def
	shorterKey.KeyLen = 16

	const dovecotArgon2id = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$QIr+6NWWs6sL1AJZEbB/LA$w/MnFFfaQVuhcy4KDTXIv4kBYKxzdIng3xKzXfErVTg"
	const dovecotArgon2i = "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$qGbhE0y+Fbq34BusivXRvA$t4vofHsGaId6omA2N9gW40u6p/2DO/P6Z/lw05dIAag"

	tests := []struct {
		name   string
		h      Hasher
		stored string
		rehash bool
	}{
		{"same parameters", def, hashWith(def), false},
		{"stronger stored", def, hashWith(stronger), false},
		{"cheaper stored", def, hashWith(TestHasher()), true},
		{"less memory", stronger, hashWith(def), true},
		{"fewer passes", moreTime, hashWith(def), true},
		{"fewer threads", moreThreads, hashWith(def), true},
		{"shorter key", longerKey, hashWith(def), true},
		{"longer key stored", def, hashWith(longerKey), false},
		{"shorter key stored", def, hashWith(shorterKey), true},
		{"shorter salt", longerSalt, hashWith(def), true},
		{"test hasher, own hash", TestHasher(), hashWith(TestHasher()), false},
		{"dovecot argon2id above default", def, dovecotArgon2id, false},
		{"dovecot argon2id below stronger", stronger, dovecotArgon2id, false},
		{"dovecot argon2id, more passes wanted", Hasher{Time: 4, MemoryKiB: 19456, Threads: 1, KeyLen: 32, SaltLen: 16}, dovecotArgon2id, true},
		{"argon2i", TestHasher(), dovecotArgon2i, true},
		{"bcrypt", TestHasher(), "{BLF-CRYPT}$2y$05$61796qq.786f2W7pKdJjI.vo1Lpg5V7TShftgobpNp3u8MSkANmnC", true},
		{"sha512-crypt", TestHasher(), "$6$saltsaltsalt$ST/mWEmUvGaF8bR7RgZUdh5cwHaiiTTLMzdmz6VYMGgVtDKO8Huz6GcoOtpj0X0zfFtfnn1aYJnZLSFBw4K2p0", true},
		{"ssha512", TestHasher(), "{SSHA512}5Aff/igyi0ZLqf9e9ad+UPDq7RRROyIsY9x6JQWuFLog16+zToeg+2ZZm887dKtTQmFJnBXZ4w1Wbr2bXET0X4DDx9A=", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := tt.h.Verify(tt.stored, pwHorse)
			if err != nil || !ok || rehash != tt.rehash {
				t.Fatalf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.rehash)
			}
			// A wrong password never asks for a rehash.
			ok, rehash, err = tt.h.Verify(tt.stored, "wrong")
			if err != nil || ok || rehash {
				t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestDummy(t *testing.T) {
	// Dummy has no result; it must accept any input without panicking.
	for _, h := range []Hasher{TestHasher(), {Time: 1, MemoryKiB: 64, Threads: 2, KeyLen: 64, SaltLen: 64}} {
		for _, pw := range []string{"", pwHorse, strings.Repeat("x", 1024), strings.Repeat("x", 5000), "\x00\xff"} {
			h.Dummy(pw)
		}
	}
}

// BenchmarkVerifyDefault and BenchmarkDummyDefault should take about as long
// as each other: Dummy stands in for Verify for unknown users.
func BenchmarkVerifyDefault(b *testing.B) {
	h := DefaultHasher()
	stored, err := h.Hash(pwHorse)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		h.Verify(stored, pwHorse)
	}
}

func BenchmarkDummyDefault(b *testing.B) {
	h := DefaultHasher()
	for b.Loop() {
		h.Dummy(pwHorse)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := DefaultHasher()
	for b.Loop() {
		h.Hash(pwHorse)
	}
}
