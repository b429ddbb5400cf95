package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// maxHashedBytes bounds the passwords Hash accepts and Verify tries. It is
// far above MaxPasswordBytes, the rule for new passwords, so that passwords
// set under an earlier system still verify, but it bounds the work a login
// attempt can cause: SHA-crypt's cost grows with the square of the password's
// length.
const maxHashedBytes = 1024

// Hasher hashes new passwords with argon2id. Params are fields so tests and
// CSV imports of thousands of rows can use a cheap setting, while
// DefaultHasher() gives OWASP's recommended cost (m=19 MiB, t=2, p=1).
//
// The zero Hasher is not valid: Hash and Verify return an error for it. Use
// DefaultHasher, or check a configured Hasher once with Validate.
type Hasher struct {
	Time      uint32 // argon2 passes (t)
	MemoryKiB uint32 // memory in KiB (m)
	Threads   uint8  // parallelism (p)
	KeyLen    uint32 // hash length in bytes
	SaltLen   uint32 // salt length in bytes
}

// DefaultHasher returns the Hasher for production: argon2id with OWASP's
// recommended cost (m=19 MiB, t=2, p=1), a 16-byte salt and a 32-byte hash.
func DefaultHasher() Hasher {
	return Hasher{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// TestHasher returns the cheapest valid parameters (t=1, m=8 KiB, p=1, the
// shortest hash and salt Validate allows), for tests only: a hash it makes
// costs an attacker almost nothing.
func TestHasher() Hasher {
	return Hasher{Time: 1, MemoryKiB: 8, Threads: 1, KeyLen: 16, SaltLen: argon2MinSaltLen}
}

// Validate reports whether h's parameters can hash passwords: at least one
// pass and one thread, 8 KiB of memory per thread, a hash of at least 16 and
// a salt of at least 8 bytes, and nothing above the limits Verify accepts in
// stored hashes.
func (h Hasher) Validate() error {
	switch {
	case h.Time < 1 || h.Time > argon2MaxTime:
		return fmt.Errorf("argon2 hasher: time %d out of range 1-%d", h.Time, argon2MaxTime)
	case h.Threads < 1:
		return errors.New("argon2 hasher: threads must be at least 1")
	case h.MemoryKiB < 8*uint32(h.Threads) || h.MemoryKiB > argon2MaxMemoryKiB:
		return fmt.Errorf("argon2 hasher: memory %d KiB out of range %d-%d", h.MemoryKiB, 8*uint32(h.Threads), argon2MaxMemoryKiB)
	case h.KeyLen < 16 || h.KeyLen > argon2MaxKeyLen:
		return fmt.Errorf("argon2 hasher: key length %d out of range 16-%d", h.KeyLen, argon2MaxKeyLen)
	case h.SaltLen < argon2MinSaltLen || h.SaltLen > argon2MaxSaltLen:
		return fmt.Errorf("argon2 hasher: salt length %d out of range %d-%d", h.SaltLen, argon2MinSaltLen, argon2MaxSaltLen)
	}
	return nil
}

// Hash returns the argon2id hash of password as a PHC string,
// "$argon2id$v=19$m=...,t=...,p=...$salt$hash", with salt and hash in
// standard base64 without padding, as the reference implementation writes.
func (h Hasher) Hash(password string) (string, error) {
	if err := h.Validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	if len(password) > maxHashedBytes {
		return "", fmt.Errorf("hash password: longer than %d bytes", maxHashedBytes)
	}
	salt := make([]byte, h.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read random salt: %w", err)
	}
	a := &argon2Hash{
		variant:   argon2id,
		memoryKiB: h.MemoryKiB,
		time:      h.Time,
		threads:   h.Threads,
		salt:      salt,
		key:       argon2.IDKey([]byte(password), salt, h.Time, h.MemoryKiB, h.Threads, h.KeyLen),
	}
	return a.String(), nil
}

// Verify checks password against a stored hash of any supported scheme (see
// ParseImportedHash), in constant time for the comparison. rehash is true when
// the stored hash is not argon2id with at least h's parameters (imported or
// weaker hashes are rehashed at the next successful login); it is only ever
// true together with ok.
//
// A wrong password is not an error: ok is false and err nil. err is set when
// stored cannot be parsed or h is invalid; it names the problem, never the
// hash or the password. Passwords longer than 1024 bytes never match.
func (h Hasher) Verify(stored, password string) (ok bool, rehash bool, err error) {
	if err := h.Validate(); err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	sh, err := parseHash(stored)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	if len(password) > maxHashedBytes {
		return false, false, nil
	}
	if !sh.verify([]byte(password)) {
		return false, false, nil
	}
	return true, !sh.current(h), nil
}

// Dummy spends about as long as a Verify of a real hash, for logins of
// unknown users, so timing does not reveal whether an account exists. It
// derives an argon2id key with h's parameters and compares it, as Verify does
// for a hash h made. (Users whose stored hash is an imported scheme of another
// cost still differ in timing until their next login rehashes it.)
func (h Hasher) Dummy(password string) {
	if h.Validate() != nil {
		return
	}
	if len(password) > maxHashedBytes {
		return // as Verify does
	}
	salt := make([]byte, h.SaltLen)
	key := argon2.IDKey([]byte(password), salt, h.Time, h.MemoryKiB, h.Threads, h.KeyLen)
	subtle.ConstantTimeCompare(key, make([]byte, len(key)))
}
