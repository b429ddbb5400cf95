package auth

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-crypt/crypt/algorithm"
	"github.com/go-crypt/crypt/algorithm/md5crypt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
	"golang.org/x/crypto/bcrypt"
)

// The crypt(3) forms: bcrypt ($2a$, $2b$, $2y$), SHA-crypt ($5$, $6$) and
// MD5-crypt ($1$). The libraries compute and compare; the checks here are
// glue that make a malformed or absurdly expensive string fail at import with
// a clear message instead of at some later login.

// Cost bounds for stored crypt hashes, so that no imported hash makes each
// login of its user a denial of service. Common settings are far below:
// Dovecot and mkpasswd use bcrypt cost 5 to 12 and SHA-crypt's default of
// 5000 rounds; passlib's defaults are 535000 (SHA-256) and 656000 (SHA-512).
const (
	bcryptMaxCost      = 16
	shaCryptMinRounds  = 1000 // glibc clamps lower settings to 1000
	shaCryptMaxRounds  = 5_000_000
	shaCryptMaxSaltLen = 16
	md5CryptMaxSaltLen = 8
)

// crypt64 is the alphabet of crypt(3)'s base64 encoding, which bcrypt uses in
// a different order.
const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func onlyCrypt64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(crypt64, s[i]) < 0 {
			return false
		}
	}
	return true
}

// cryptID returns the identifier between the first two $ of a crypt string,
// such as "6" for "$6$...".
func cryptID(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "$")
	return id, ok
}

// parseCrypt parses a bare crypt(3) or PHC string: argon2, bcrypt, SHA-crypt
// or MD5-crypt.
func parseCrypt(s string) (storedHash, error) {
	id, ok := cryptID(s)
	if !ok {
		if len(s) == 13 && onlyCrypt64(s) {
			return nil, fmt.Errorf("%w: traditional DES crypt", ErrUnsupportedScheme)
		}
		return nil, fmt.Errorf("%w: not a crypt string or a {SCHEME} prefix", ErrMalformedHash)
	}
	switch id {
	case argon2id, argon2i:
		return parsePHC(s)
	case "2a", "2b", "2y":
		return parseBcrypt(s)
	case "5", "6":
		return parseSHACrypt(s)
	case "1":
		return parseMD5Crypt(s)
	}
	return nil, fmt.Errorf("%w: crypt method %s", ErrUnsupportedScheme, cryptName(id))
}

// cryptName names a crypt method we do not verify, for error messages.
func cryptName(id string) string {
	switch id {
	case "2":
		return "$2$ (original bcrypt)"
	case "2x":
		return "$2x$ (bcrypt with the crypt_blowfish sign bug)"
	case "3":
		return "$3$ (NT hash)"
	case "7":
		return "$7$ (scrypt)"
	case "y":
		return "$y$ (yescrypt)"
	case "gy":
		return "$gy$ (gost-yescrypt)"
	case "sha1":
		return "$sha1$ (SHA1-crypt)"
	case "apr1":
		return "$apr1$ (Apache MD5)"
	case "argon2d", "pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512", "scrypt":
		return "$" + id + "$"
	}
	if strings.HasPrefix(id, "md5") {
		return "$md5$ (SunMD5)"
	}
	return "unknown"
}

// bcryptHash is a bcrypt string such as "$2y$10$<22 salt><31 hash>".
type bcryptHash string

func parseBcrypt(s string) (storedHash, error) {
	// $2y$ + 2-digit cost + $ + 53 characters.
	if len(s) != 60 || s[6] != '$' || !onlyCrypt64(s[7:]) {
		return nil, fmt.Errorf("%w: bcrypt: want $2y$NN$ and 53 characters", ErrMalformedHash)
	}
	cost, err := strconv.Atoi(s[4:6])
	if err != nil || cost < bcrypt.MinCost || cost > bcryptMaxCost {
		return nil, fmt.Errorf("%w: bcrypt: cost %q out of range %02d-%02d", ErrMalformedHash, s[4:6], bcrypt.MinCost, bcryptMaxCost)
	}
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return nil, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
	return bcryptHash(s), nil
}

func (h bcryptHash) String() string { return string(h) }

// verify compares in constant time (CompareHashAndPassword uses
// crypto/subtle). Like crypt_blowfish, it uses only the first 72 bytes of the
// password, so passwords set under Dovecot verify even when longer.
func (h bcryptHash) verify(password []byte) bool {
	if len(password) > 72 {
		password = password[:72]
	}
	return bcrypt.CompareHashAndPassword([]byte(h), password) == nil
}

func (h bcryptHash) current(Hasher) bool { return false }

// libCryptHash is a SHA-crypt or MD5-crypt string with the digest the
// go-crypt library decoded from it.
type libCryptHash struct {
	s      string
	digest algorithm.Digest
}

func (h *libCryptHash) String() string { return h.s }

// verify compares in constant time (the library uses crypto/subtle).
func (h *libCryptHash) verify(password []byte) bool {
	ok, err := h.digest.MatchAdvanced(string(password))
	return err == nil && ok
}

func (h *libCryptHash) current(Hasher) bool { return false }

// parseSHACrypt parses "$5$[rounds=N$]salt$hash" or the same with $6$.
func parseSHACrypt(s string) (storedHash, error) {
	name, keyLen := "SHA256-crypt", 43
	if strings.HasPrefix(s, "$6$") {
		name, keyLen = "SHA512-crypt", 86
	}
	parts := strings.Split(s[3:], "$")
	if len(parts) == 3 {
		v, ok := strings.CutPrefix(parts[0], "rounds=")
		if !ok {
			return nil, fmt.Errorf("%w: %s: want $rounds=N$ before the salt", ErrMalformedHash, name)
		}
		rounds, err := strconv.ParseUint(v, 10, 32)
		if err != nil || rounds < shaCryptMinRounds || rounds > shaCryptMaxRounds {
			return nil, fmt.Errorf("%w: %s: rounds %q out of range %d-%d", ErrMalformedHash, name, v, shaCryptMinRounds, shaCryptMaxRounds)
		}
		parts = parts[1:]
	}
	if len(parts) != 2 {
		return nil, fmt.Errorf("%w: %s: want salt and hash separated by $", ErrMalformedHash, name)
	}
	if err := checkCryptSalt(parts[0], shaCryptMaxSaltLen); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedHash, name, err)
	}
	if len(parts[1]) != keyLen || !onlyCrypt64(parts[1]) {
		return nil, fmt.Errorf("%w: %s: hash must be %d characters of ./0-9A-Za-z", ErrMalformedHash, name, keyLen)
	}
	d, err := shacrypt.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedHash, name, err)
	}
	return &libCryptHash{s: s, digest: d}, nil
}

// parseMD5Crypt parses "$1$salt$hash".
func parseMD5Crypt(s string) (storedHash, error) {
	parts := strings.Split(s[3:], "$")
	if len(parts) != 2 {
		return nil, fmt.Errorf("%w: MD5-crypt: want salt and hash separated by $", ErrMalformedHash)
	}
	if err := checkCryptSalt(parts[0], md5CryptMaxSaltLen); err != nil {
		return nil, fmt.Errorf("%w: MD5-crypt: %v", ErrMalformedHash, err)
	}
	if len(parts[1]) != 22 || !onlyCrypt64(parts[1]) {
		return nil, fmt.Errorf("%w: MD5-crypt: hash must be 22 characters of ./0-9A-Za-z", ErrMalformedHash)
	}
	d, err := md5crypt.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: MD5-crypt: %v", ErrMalformedHash, err)
	}
	return &libCryptHash{s: s, digest: d}, nil
}

// checkCryptSalt checks a SHA-crypt or MD5-crypt salt. crypt(3) writes at
// most max characters and never $, : or white space; other characters are
// allowed, as glibc accepts them.
func checkCryptSalt(salt string, max int) error {
	if salt == "" || len(salt) > max {
		return fmt.Errorf("salt of %d characters, want 1-%d", len(salt), max)
	}
	for _, c := range []byte(salt) {
		if c <= ' ' || c == ':' || c == 0x7f {
			return fmt.Errorf("salt contains a control character, space or colon")
		}
	}
	return nil
}
