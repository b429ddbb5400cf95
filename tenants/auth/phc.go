package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The PHC string format of argon2 hashes, written by hand because
// golang.org/x/crypto/argon2 only derives keys and leaves the encoding to its
// callers. The layout is the one the reference implementation (and libsodium,
// and so Dovecot's ARGON2I and ARGON2ID schemes) writes:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in standard base64 without padding. Parsing is strict:
// the parameters must appear in the order m, t, p, and the optional keyid and
// data parameters, which no implementation we import from writes, are refused.

// Bounds on the cost a stored argon2 hash may ask for. A hash imported with a
// huge memory or time cost would make every login of that user a denial of
// service, so it is refused at import and at verification alike. The upper
// bounds are well above libsodium's "sensitive" preset (1 GiB, t=4).
const (
	argon2MaxMemoryKiB = 1 << 20 // 1 GiB
	argon2MaxTime      = 32
	argon2MinSaltLen   = 8 // RFC 9106, section 3.1
	argon2MaxSaltLen   = 64
	argon2MinKeyLen    = 4 // the reference implementation's minimum output
	argon2MaxKeyLen    = 128
)

const (
	argon2id = "argon2id"
	argon2i  = "argon2i"
)

// argon2Hash is a parsed PHC argon2 string.
type argon2Hash struct {
	variant   string // argon2id or argon2i
	memoryKiB uint32
	time      uint32
	threads   uint8
	salt, key []byte
}

// parsePHC parses a PHC argon2id or argon2i string.
func parsePHC(s string) (*argon2Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return nil, fmt.Errorf("%w: argon2: want 5 fields separated by $", ErrMalformedHash)
	}
	h := &argon2Hash{variant: parts[1]}
	switch h.variant {
	case argon2id, argon2i:
	default:
		return nil, fmt.Errorf("%w: argon2: unknown variant", ErrMalformedHash)
	}
	if parts[2] != "v=19" {
		// Version 16 (0x10) hashes are rare and golang.org/x/crypto
		// computes only version 19.
		return nil, fmt.Errorf("%w: argon2 version other than 19", ErrUnsupportedScheme)
	}

	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, fmt.Errorf("%w: argon2: want parameters m, t and p", ErrMalformedHash)
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return nil, fmt.Errorf("%w: argon2: want parameters m, t and p", ErrMalformedHash)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: argon2: parameter %s is not a number", ErrMalformedHash, name)
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case p < 1 || p > 255:
		return nil, fmt.Errorf("%w: argon2: parallelism %d out of range 1-255", ErrMalformedHash, p)
	case m < 8*p:
		return nil, fmt.Errorf("%w: argon2: memory %d KiB below 8 KiB per thread", ErrMalformedHash, m)
	case m > argon2MaxMemoryKiB:
		return nil, fmt.Errorf("%w: argon2: memory %d KiB above the limit of %d KiB", ErrMalformedHash, m, argon2MaxMemoryKiB)
	case t < 1 || t > argon2MaxTime:
		return nil, fmt.Errorf("%w: argon2: time %d out of range 1-%d", ErrMalformedHash, t, argon2MaxTime)
	}
	h.memoryKiB, h.time, h.threads = uint32(m), uint32(t), uint8(p)

	var err error
	enc := base64.RawStdEncoding.Strict()
	if h.salt, err = enc.DecodeString(parts[4]); err != nil {
		return nil, fmt.Errorf("%w: argon2: salt is not unpadded base64", ErrMalformedHash)
	}
	if n := len(h.salt); n < argon2MinSaltLen || n > argon2MaxSaltLen {
		return nil, fmt.Errorf("%w: argon2: salt of %d bytes, want %d-%d", ErrMalformedHash, n, argon2MinSaltLen, argon2MaxSaltLen)
	}
	if h.key, err = enc.DecodeString(parts[5]); err != nil {
		return nil, fmt.Errorf("%w: argon2: hash is not unpadded base64", ErrMalformedHash)
	}
	if n := len(h.key); n < argon2MinKeyLen || n > argon2MaxKeyLen {
		return nil, fmt.Errorf("%w: argon2: hash of %d bytes, want %d-%d", ErrMalformedHash, n, argon2MinKeyLen, argon2MaxKeyLen)
	}
	return h, nil
}

// String returns the PHC string.
func (h *argon2Hash) String() string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s",
		h.variant, argon2.Version, h.memoryKiB, h.time, h.threads,
		enc.EncodeToString(h.salt), enc.EncodeToString(h.key))
}

func (h *argon2Hash) verify(password []byte) bool {
	var key []byte
	if h.variant == argon2id {
		key = argon2.IDKey(password, h.salt, h.time, h.memoryKiB, h.threads, uint32(len(h.key)))
	} else {
		key = argon2.Key(password, h.salt, h.time, h.memoryKiB, h.threads, uint32(len(h.key)))
	}
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// current reports whether h is argon2id with at least hr's parameters.
func (h *argon2Hash) current(hr Hasher) bool {
	return h.variant == argon2id &&
		h.memoryKiB >= hr.MemoryKiB &&
		h.time >= hr.Time &&
		h.threads >= hr.Threads &&
		uint32(len(h.key)) >= hr.KeyLen &&
		uint32(len(h.salt)) >= hr.SaltLen
}
