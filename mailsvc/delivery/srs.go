package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
)

// The Sender Rewriting Scheme (SRS0, as libsrs2 and Postfix's postsrsd write
// it): a message forwarded to a remote host leaves with the envelope sender
//
//	SRS0=HASH=TT=orig-domain=orig-local@forwarding-domain
//
// so that the receiver's SPF check sees a domain whose SPF record names us,
// and a bounce finds its way back: the MX reverses the address, checks the
// hash and the age, and sends the bounce on to the original sender.
//
// Written here rather than taken from a library: the maintained Go one
// (github.com/mileusna/srs) can't be fetched through the module proxy, and
// the scheme is small. It differs from the spec in two details. HASH is
// base32, not base64, because Postdesk compares local parts without case
// (tenants/address lower-cases them) and a base64 hash would not survive
// that. And HASH carries the id of the forwarding mailbox after the MAC
// (8 base32 characters, then the id in base 32): a bounce is mail this
// server sends for that mailbox, so it is returned only while the mailbox
// may still forward and send, and it counts against that mailbox's limits
// (Deliverer.Resolve, bounce.go). HASH is opaque to everyone else (an SRS1
// rewriter keeps it as it is). The MAC is an HMAC-SHA256 over the
// lower-cased timestamp, mailbox id, domain, local part and forwarding
// domain, cut to 40 bits: changing any of them, the id included, fails
// it; an address is valid only under the domain that wrote it, so that one
// domain's forwards can't be bounced through another (libsrs2 leaves the
// forwarding domain out, since there it is always the one host's own).
// It is valid for srsMaxAge days, and only as the recipient of a bounce
// (the null sender; Deliverer.Resolve).

// Errors of SRS reversal.
var (
	ErrNotSRS     = errors.New("not an SRS address")
	ErrSRSInvalid = errors.New("invalid SRS address")
	// ErrSRSExpired: an address of ours, valid but older than srsMaxAge.
	ErrSRSExpired = errors.New("expired SRS address")
)

const (
	srsHashLen = 8
	// srsMaxAge is the days a rewritten address stays valid: long enough
	// for a bounce, which a receiver sends at once or when it gives up
	// retrying (RFC 5321 4.5.4.1 asks at least 4-5 days; Postfix's and
	// sendmail's queue lifetime is 5 days, Exim's retry rules 4), plus a
	// day for the day-granular timestamp and one for the bounce's own
	// trip; no longer, since every valid address is a way to reach the
	// original sender through us.
	srsMaxAge = 7
	srsSecret = "srs"
)

var srsB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// SRS rewrites and reverses envelope senders with one secret.
type SRS struct {
	secret []byte
	now    func() time.Time
}

// NewSRS returns an SRS with the given secret.
func NewSRS(secret []byte, now func() time.Time) *SRS {
	if now == nil {
		now = time.Now
	}
	return &SRS{secret: secret, now: now}
}

// LoadSRS returns an SRS whose secret is kept in the database (table
// mail_secrets), made at first use, so that every process and every restart
// reverses the addresses the others wrote.
func LoadSRS(ctx context.Context, db *database.DB, now func() time.Time) (*SRS, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make SRS secret: %w", err)
	}
	var value string
	err := db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Table("mail_secrets").Clauses(clause.OnConflict{DoNothing: true}).
			Create(map[string]any{"name": srsSecret, "value": hex.EncodeToString(b[:])}).Error; err != nil {
			return err
		}
		return tx.Table("mail_secrets").Where("name = ?", srsSecret).Pluck("value", &value).Error
	})
	if err != nil {
		return nil, fmt.Errorf("load SRS secret: %w", err)
	}
	secret, err := hex.DecodeString(value)
	if err != nil || len(secret) < 16 {
		return nil, fmt.Errorf("SRS secret in mail_secrets is damaged")
	}
	return NewSRS(secret, now), nil
}

// IsSRS reports whether a local part looks like an SRS address.
func IsSRS(local string) bool {
	return len(local) > 5 && (strings.EqualFold(local[:5], "SRS0=") || strings.EqualFold(local[:5], "SRS1="))
}

func (s *SRS) day() int64 { return s.now().Unix() / 86400 }

func (s *SRS) hash(tt string, mailboxID int64, domain, local, forwardDomain string) string {
	m := hmac.New(sha256.New, s.secret)
	// The timestamp and id hold no "=", the forwarding domain holds none
	// and comes last: the fields can't be shifted into one another.
	m.Write([]byte(strings.ToLower(tt + "=" + strconv.FormatInt(mailboxID, 10) + "=" + domain + "=" + local + "@" + forwardDomain)))
	return srsB32.EncodeToString(m.Sum(nil))[:srsHashLen]
}

func timestamp(day int64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	d := day % 1024
	return string([]byte{alphabet[d>>5], alphabet[d&31]})
}

// Forward rewrites the sender local@domain for a forward of mailbox
// mailboxID leaving through forwardDomain.
func (s *SRS) Forward(local, domain, forwardDomain string, mailboxID int64) string {
	tt := timestamp(s.day())
	return "SRS0=" + s.hash(tt, mailboxID, domain, local, forwardDomain) + strconv.FormatInt(mailboxID, 32) + "=" + tt + "=" + domain + "=" + local + "@" + forwardDomain
}

// Reverse returns the original sender (local, domain) of an SRS0 local part
// that Forward wrote for forwardDomain, the domain of the address it was
// received at, and the forwarding mailbox's id: ErrNotSRS if it isn't one,
// ErrSRSInvalid if its hash (for that domain) is wrong, ErrSRSExpired if
// it is older than srsMaxAge days. Addresses written before the mailbox
// id was part of them are invalid.
func (s *SRS) Reverse(srsLocal, forwardDomain string) (local, domain string, mailboxID int64, err error) {
	if !IsSRS(srsLocal) || !strings.EqualFold(srsLocal[:5], "SRS0=") {
		return "", "", 0, ErrNotSRS
	}
	parts := strings.SplitN(srsLocal[5:], "=", 4)
	if len(parts) != 4 || parts[2] == "" || parts[3] == "" || len(parts[1]) != 2 || len(parts[0]) <= srsHashLen || len(parts[0]) > srsHashLen+13 {
		return "", "", 0, ErrSRSInvalid
	}
	h, tt, domain, local := parts[0], parts[1], parts[2], parts[3]
	mailboxID, err = strconv.ParseInt(h[srsHashLen:], 32, 64)
	if err != nil || mailboxID <= 0 {
		return "", "", 0, ErrSRSInvalid
	}
	if !hmac.Equal([]byte(strings.ToLower(h[:srsHashLen])), []byte(s.hash(tt, mailboxID, domain, local, forwardDomain))) {
		return "", "", 0, ErrSRSInvalid
	}
	// The timestamp is a day count modulo 1024; its age is the distance
	// back from today in that ring.
	t := strings.ToLower(tt)
	hi, lo := strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", t[0]), strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", t[1])
	if hi < 0 || lo < 0 {
		return "", "", 0, ErrSRSInvalid
	}
	stamp := int64(hi<<5 | lo)
	age := (s.day()%1024 - stamp + 1024) % 1024
	if age > srsMaxAge {
		return "", "", 0, ErrSRSExpired
	}
	return local, domain, mailboxID, nil
}
