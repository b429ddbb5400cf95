package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of ParseImportedHash and Verify, for errors.Is. The returned errors
// wrap one of them and add the scheme and the problem, never the hash itself.
var (
	// ErrUnsupportedScheme: the scheme is known to exist but is not one
	// Postdesk verifies (e.g. {PLAIN-MD5}, $y$ yescrypt), or is unknown.
	ErrUnsupportedScheme = errors.New("unsupported password scheme")
	// ErrClearTextScheme: {PLAIN}, {CLEAR} and the like, refused because
	// Postdesk never stores clear-text passwords.
	ErrClearTextScheme = errors.New("clear-text password scheme refused")
	// ErrMalformedHash: the scheme is supported but the hash is not a
	// well-formed hash of it, or asks for a cost beyond Postdesk's limits.
	ErrMalformedHash = errors.New("malformed password hash")
)

// maxStoredLen bounds the length of a stored hash: the longest supported
// form (an argon2 PHC string with 64-byte salt and 128-byte key, or a salted
// SHA-512 hex digest) is well under it.
const maxStoredLen = 512

// storedHash is a parsed stored hash of any supported scheme.
type storedHash interface {
	// String returns the form to store.
	String() string
	// verify reports whether password matches, comparing in constant
	// time.
	verify(password []byte) bool
	// current reports whether the hash is argon2id with at least h's
	// parameters, so needs no rehash.
	current(h Hasher) bool
}

// ParseImportedHash validates that s is a well-formed hash of a supported
// scheme and returns the form to store, which Verify accepts. Supported are
// the forms Dovecot's "doveadm pw" writes, with the {SCHEME} prefix matched
// case-insensitively, and the bare crypt forms:
//
//   - argon2: $argon2id$… (our own), {ARGON2ID}$argon2id$…, {ARGON2I}$argon2i$…
//   - bcrypt: {BLF-CRYPT}$2y$…, bare $2a$, $2b$, $2y$
//   - {SHA512-CRYPT}$6$…, {SHA256-CRYPT}$5$…, {MD5-CRYPT}$1$… and bare
//     $6$, $5$, $1$ (also {MD5}$1$…, Dovecot's alias of MD5-CRYPT)
//   - {CRYPT} in front of any of the crypt forms above
//   - {SSHA512}, {SSHA256}, {SSHA}, {SHA512}, {SHA256}, {SHA} (or {SHA1}):
//     base64 digests, the salted ones with the salt after the digest;
//     Dovecot's .HEX, .B64 and .BASE64 suffixes select the encoding.
//
// The stored form of crypt and PHC hashes is the bare string, without the
// prefix, which names the scheme by itself; digests keep their prefix in
// upper case and are stored in padded base64.
//
// Clear-text schemes ({PLAIN}, {CLEAR}, {CLEARTEXT}, {PLAIN-TRUNC}) are
// refused with ErrClearTextScheme, other schemes with ErrUnsupportedScheme,
// and hashes that are not well formed, or ask for more than the cost limits
// (argon2 1 GiB and t=32, bcrypt cost 16, SHA-crypt 5,000,000 rounds), with
// ErrMalformedHash.
func ParseImportedHash(s string) (string, error) {
	h, err := parseHash(s)
	if err != nil {
		return "", fmt.Errorf("import password hash: %w", err)
	}
	return h.String(), nil
}

// parseHash parses a stored hash, with or without a Dovecot {SCHEME} prefix.
func parseHash(s string) (storedHash, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: empty", ErrMalformedHash)
	case len(s) > maxStoredLen:
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxStoredLen)
	case !strings.HasPrefix(s, "{"):
		return parseCrypt(s)
	}
	scheme, rest, ok := strings.Cut(s[1:], "}")
	if !ok || scheme == "" || len(scheme) > 32 {
		return nil, fmt.Errorf("%w: { does not open a {SCHEME} prefix", ErrMalformedHash)
	}
	scheme = strings.ToUpper(scheme)
	name, encoding, _ := strings.Cut(scheme, ".")
	switch name {
	case "PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC":
		return nil, fmt.Errorf("%w: {%s}", ErrClearTextScheme, name)
	case "SHA", "SHA1", "SHA256", "SHA512", "SSHA", "SSHA256", "SSHA512":
		return parseDigest(name, encoding, rest)
	}
	// Crypt schemes: the rest is a crypt string of the kind the scheme
	// names (any supported kind for {CRYPT}).
	var want []string
	switch name {
	case "CRYPT":
	case "ARGON2ID":
		want = []string{"$argon2id$"}
	case "ARGON2I":
		want = []string{"$argon2i$"}
	case "BLF-CRYPT":
		want = []string{"$2a$", "$2b$", "$2y$"}
	case "SHA512-CRYPT":
		want = []string{"$6$"}
	case "SHA256-CRYPT":
		want = []string{"$5$"}
	case "MD5-CRYPT", "MD5":
		// Dovecot's {MD5} is MD5-crypt when the hash starts with $1$;
		// otherwise it is a plain MD5 digest, which we do not support.
		want = []string{"$1$"}
		if name == "MD5" && !strings.HasPrefix(rest, "$1$") {
			return nil, fmt.Errorf("%w: {MD5} other than MD5-crypt", ErrUnsupportedScheme)
		}
	default:
		return nil, fmt.Errorf("%w: {%s}", ErrUnsupportedScheme, printable(name))
	}
	if encoding != "" {
		return nil, fmt.Errorf("%w: {%s} takes no .%s suffix", ErrMalformedHash, name, printable(encoding))
	}
	if want != nil && !hasAnyPrefix(rest, want) {
		return nil, fmt.Errorf("%w: {%s} hash does not start with %s", ErrMalformedHash, name, strings.Join(want, " or "))
	}
	h, err := parseCrypt(rest)
	if err != nil {
		return nil, fmt.Errorf("{%s}: %w", name, err)
	}
	return h, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// printable returns s with bytes other than printable ASCII replaced by ?,
// so that a scheme name from an import file cannot garble an error message.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '?'
		}
	}
	return string(b)
}
