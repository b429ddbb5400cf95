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
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/tenants/database"
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
// the scheme is small. It differs from the spec in one detail: HASH is
// base32, not base64, because Postdesk compares local parts without case
// (tenants/address lower-cases them) and a base64 hash would not survive
// that. The hash is an HMAC-SHA256 over the lower-cased timestamp, domain,
// local part and forwarding domain, cut to 8 base32 characters (40 bits):
// an address is valid only under the domain that wrote it, so that one
// domain's forwards can't be bounced through another (libsrs2 leaves the
// forwarding domain out, since there it is always the one host's own).
// It is valid for srsMaxAge days, and only as the recipient of a bounce
// (the null sender; Deliverer.Resolve).

// Errors of SRS reversal.
var (
	ErrNotSRS     = errors.New("not an SRS address")
	ErrSRSInvalid = errors.New("invalid or expired SRS address")
)

const (
	srsHashLen = 8
	srsMaxAge  = 21 // days a rewritten address stays valid
	srsSecret  = "srs"
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

func (s *SRS) hash(tt, domain, local, forwardDomain string) string {
	m := hmac.New(sha256.New, s.secret)
	// The forwarding domain holds no "=" and comes last: the fields can't
	// be shifted into one another.
	m.Write([]byte(strings.ToLower(tt + "=" + domain + "=" + local + "@" + forwardDomain)))
	return srsB32.EncodeToString(m.Sum(nil))[:srsHashLen]
}

func timestamp(day int64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	d := day % 1024
	return string([]byte{alphabet[d>>5], alphabet[d&31]})
}

// Forward rewrites the sender local@domain for a forward leaving through
// forwardDomain.
func (s *SRS) Forward(local, domain, forwardDomain string) string {
	tt := timestamp(s.day())
	return "SRS0=" + s.hash(tt, domain, local, forwardDomain) + "=" + tt + "=" + domain + "=" + local + "@" + forwardDomain
}

// Reverse returns the original sender (local, domain) of an SRS0 local part
// that Forward wrote for forwardDomain, the domain of the address it was
// received at: ErrNotSRS if it isn't one, ErrSRSInvalid if its hash (for
// that domain) or age is wrong.
func (s *SRS) Reverse(srsLocal, forwardDomain string) (local, domain string, err error) {
	if !IsSRS(srsLocal) || !strings.EqualFold(srsLocal[:5], "SRS0=") {
		return "", "", ErrNotSRS
	}
	parts := strings.SplitN(srsLocal[5:], "=", 4)
	if len(parts) != 4 || parts[2] == "" || parts[3] == "" || len(parts[1]) != 2 {
		return "", "", ErrSRSInvalid
	}
	h, tt, domain, local := parts[0], parts[1], parts[2], parts[3]
	if !hmac.Equal([]byte(strings.ToLower(h)), []byte(s.hash(tt, domain, local, forwardDomain))) {
		return "", "", ErrSRSInvalid
	}
	// The timestamp is a day count modulo 1024; its age is the distance
	// back from today in that ring.
	t := strings.ToLower(tt)
	hi, lo := strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", t[0]), strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", t[1])
	if hi < 0 || lo < 0 {
		return "", "", ErrSRSInvalid
	}
	stamp := int64(hi<<5 | lo)
	age := (s.day()%1024 - stamp + 1024) % 1024
	if age > srsMaxAge {
		return "", "", ErrSRSInvalid
	}
	return local, domain, nil
}
