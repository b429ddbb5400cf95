// Package auth holds Postdesk's credential primitives: password hashing and
// verification, the password-strength rule, and API keys.
//
// New passwords are hashed with argon2id (Hasher.Hash) and stored as the PHC
// string the reference implementation writes. Verify also accepts hashes
// imported from Dovecot (as "doveadm pw" writes them, with or without the
// {SCHEME} prefix) and reports when a stored hash should be replaced by an
// argon2id hash at the next successful login. ParseImportedHash checks such a
// hash before it is stored and refuses clear-text schemes.
//
// The algorithms come from maintained libraries: golang.org/x/crypto for
// argon2 and bcrypt, github.com/go-crypt/crypt for SHA-crypt and MD5-crypt,
// github.com/ccojocar/zxcvbn-go for strength estimation. This package writes
// by hand only the glue those libraries leave out: the PHC string format of
// argon2 hashes, Dovecot's {SCHEME} prefixes and its salted-digest layout, and
// bounds on the cost parameters a stored hash may ask for, and a faster
// equivalent of the zxcvbn port's l33t matcher (l33t.go).
//
// The package has no mutable state: every function takes what it needs as
// arguments and the Hasher is a plain value; the only package-level value
// is the l33t matcher's word list, built once from zxcvbn's and never
// changed.
package auth
