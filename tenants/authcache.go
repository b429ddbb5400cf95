package tenants

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// authCache remembers, in this process, the logins whose password was
// verified, so that a mail client's next connections (several IMAP
// connections, a POP3 poll every few minutes) skip the memory-hard hash,
// as Dovecot's auth cache does. What it holds is a keyed hash (HMAC with a
// key made at start) of the account and the password, never the password,
// and the stored hash it was checked against, with the account's
// credentials version at the time. It is only ever asked after the
// account's row was read afresh: a password change or an imported hash, in
// any process, moves the version and the stored hash (even one written
// behind the version's back, by hand) and so voids the entry;
// and a hit replaces only the hash itself — the throttle, the disabled and
// expired checks and the counting of the login all run as before. A wrong
// password is never cached and always pays the full hash.
type authCache struct {
	key  [32]byte
	ttl  time.Duration
	max  int
	mu   sync.Mutex
	hits map[[32]byte]authEntry
	// hashed counts the password hashes really run, for tests.
	hashed atomic.Int64
}

type authEntry struct {
	version int64
	until   time.Time
}

func newAuthCache(ttl time.Duration, max int) *authCache {
	c := &authCache{ttl: ttl, max: max, hits: map[[32]byte]authEntry{}}
	rand.Read(c.key[:])
	return c
}

func (c *authCache) id(acctKey, stored, password string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	for _, s := range []string{acctKey, stored} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	m.Write([]byte(password))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// verified reports whether password was verified for the account at its
// current credentials version within the cache's time.
func (c *authCache) verified(acctKey, stored, password string, version int64, now time.Time) bool {
	if c.ttl <= 0 {
		return false
	}
	id := c.id(acctKey, stored, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.hits[id]
	if !ok {
		return false
	}
	if e.version != version || !now.Before(e.until) {
		delete(c.hits, id)
		return false
	}
	return true
}

// remember records a verified password. At its size the cache drops what
// has expired, else any one entry: a full cache costs hashes, not memory.
func (c *authCache) remember(acctKey, stored, password string, version int64, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	id := c.id(acctKey, stored, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.hits[id]; !ok && len(c.hits) >= c.max {
		for k, e := range c.hits {
			if !now.Before(e.until) {
				delete(c.hits, k)
			}
		}
		for k := range c.hits {
			if len(c.hits) < c.max {
				break
			}
			delete(c.hits, k)
		}
	}
	c.hits[id] = authEntry{version: version, until: now.Add(c.ttl)}
}

// credentialsVersion is the version of the login's password.
func (l *Login) credentialsVersion() int64 {
	if l.Admin != nil {
		return l.Admin.CredentialsVersion
	}
	return l.Mailbox.CredentialsVersion
}
