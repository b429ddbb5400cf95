package auth

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Dovecot's digest schemes, {SHA}, {SHA256}, {SHA512} and their salted
// {SSHA…} forms, as LDAP's userPassword also writes them: the digest of the
// password, for the salted forms of the password followed by the salt, with
// the salt appended after the digest, the whole in base64 (or hex with the
// .HEX suffix). The layout is written by hand because no maintained library
// implements it; the digests come from the standard library. These fast
// hashes are accepted only to import existing users and are replaced with
// argon2id at their next login.

// maxDigestSalt bounds the salt of the salted forms. Dovecot writes 4 bytes,
// OpenLDAP's slappasswd 4 or 8.
const maxDigestSalt = 64

type digestHash struct {
	scheme  string // canonical name: SHA, SSHA, SHA256, SSHA256, SHA512 or SSHA512
	newHash func() hash.Hash
	sum     []byte
	salt    []byte // nil for the unsalted schemes
}

// parseDigest parses the part after the {SCHEME} prefix; name is the upper
// case scheme name and encoding the optional suffix after its dot.
func parseDigest(name, encoding, rest string) (storedHash, error) {
	h := &digestHash{scheme: name}
	var size int
	switch name {
	case "SHA", "SHA1", "SSHA":
		h.newHash, size = sha1.New, sha1.Size
	case "SHA256", "SSHA256":
		h.newHash, size = sha256.New, sha256.Size
	case "SHA512", "SSHA512":
		h.newHash, size = sha512.New, sha512.Size
	default:
		return nil, fmt.Errorf("%w: {%s}", ErrUnsupportedScheme, printable(name))
	}
	salted := strings.HasPrefix(name, "SS")
	if name == "SHA1" {
		h.scheme = "SHA" // Dovecot's alias
	}

	var raw []byte
	var err error
	switch encoding {
	case "", "B64", "BASE64":
		raw, err = base64.StdEncoding.DecodeString(rest)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(rest)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: {%s}: not base64", ErrMalformedHash, name)
		}
	case "HEX":
		raw, err = hex.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: {%s.HEX}: not hex", ErrMalformedHash, name)
		}
	default:
		return nil, fmt.Errorf("%w: {%s}: unknown encoding .%s", ErrUnsupportedScheme, name, printable(encoding))
	}

	switch {
	case !salted && len(raw) != size:
		return nil, fmt.Errorf("%w: {%s}: %d bytes, want %d", ErrMalformedHash, name, len(raw), size)
	case salted && (len(raw) <= size || len(raw) > size+maxDigestSalt):
		return nil, fmt.Errorf("%w: {%s}: %d bytes, want a %d-byte digest and a salt of 1-%d bytes", ErrMalformedHash, name, len(raw), size, maxDigestSalt)
	}
	h.sum = raw[:size]
	if salted {
		h.salt = raw[size:]
	}
	return h, nil
}

// String returns the scheme prefix and the digest, followed by the salt, in
// padded standard base64.
func (h *digestHash) String() string {
	raw := append(append([]byte{}, h.sum...), h.salt...)
	return "{" + h.scheme + "}" + base64.StdEncoding.EncodeToString(raw)
}

func (h *digestHash) verify(password []byte) bool {
	d := h.newHash()
	d.Write(password)
	d.Write(h.salt)
	return subtle.ConstantTimeCompare(d.Sum(nil), h.sum) == 1
}

func (h *digestHash) current(Hasher) bool { return false }
