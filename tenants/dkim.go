package tenants

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/address"
)

// DKIM keys (RFC 6376, RFC 8463): each domain signs its outgoing mail with
// an Ed25519 and an RSA-2048 key, each under a selector of its own, so that
// receivers that know only RSA still find a signature they verify. A
// domain's first keys sign at once (nothing was signed before, so nothing
// breaks while the records are not yet published); later pairs (rotation)
// wait as pending until DNS shows their records (mailsvc/msgauth checks),
// then replace the active pair, which is kept as retired for a grace
// period so that mail signed with it still verifies.

// States of a DKIM key.
const (
	DKIMPending = "pending"
	DKIMActive  = "active"
	DKIMRetired = "retired"
)

// Algorithms of DKIM keys, as the records' k= tag names them.
const (
	DKIMEd25519 = "ed25519"
	DKIMRSA     = "rsa"
)

// DKIMGrace is how long a retired key's record should stay published.
const DKIMGrace = 7 * 24 * time.Hour

// dkimRSABits is the RSA key size: 2048, what RFC 8301 3.2 asks signers for.
const dkimRSABits = 2048

// Sealer encrypts secrets kept in the database (DKIM private keys) under a
// key kept elsewhere: tenants/seal's key file. owner binds a ciphertext
// to its row, so ciphertexts can't be swapped between rows.
type Sealer interface {
	Seal(plain, owner string) (string, error)
	Open(sealed, owner string) (string, error)
}

// ErrNoSealer: a DKIM key was to be made or used, but the service was built
// without a Sealer.
var ErrNoSealer = errors.New("no key file to seal DKIM keys with")

// DKIMKey is one stored key. PrivateKey is sealed and never leaves this
// package: callers get DKIMKeyInfo or DKIMSigner.
type DKIMKey struct {
	ID          int64
	DomainID    int64
	Selector    string
	Algorithm   string
	PublicKey   string // base64: the raw Ed25519 key, or RSA's SubjectPublicKeyInfo
	PrivateKey  string // sealed PKCS #8
	State       string
	CreatedAt   time.Time
	ActivatedAt *time.Time
	RetiredAt   *time.Time
}

// TableName is the key table.
func (DKIMKey) TableName() string { return "dkim_keys" }

// DKIMKeyInfo is a key as the CLI, the panel and the API show it: no
// private part.
type DKIMKeyInfo struct {
	Selector    string
	Algorithm   string
	State       string
	CreatedAt   time.Time
	ActivatedAt *time.Time
	RetiredAt   *time.Time
	Record      DKIMRecord
}

// DKIMRecord is the TXT record that publishes a key.
type DKIMRecord struct {
	// Name is the owner name, fully qualified with the trailing dot.
	Name string
	// Value is the whole record text; Strings is it cut into
	// character-strings of at most 255 octets (RFC 1035 3.3), as a zone
	// file and most DNS panels need an RSA-2048 key's record.
	Value   string
	Strings []string
}

// Zone is the record as a zone-file line.
func (r DKIMRecord) Zone() string {
	q := make([]string, len(r.Strings))
	for i, s := range r.Strings {
		q[i] = `"` + s + `"`
	}
	return r.Name + " IN TXT " + strings.Join(q, " ")
}

// DKIMRecordFor is the record publishing a key of algorithm alg (public key
// pub, base64) under selector of domain.
func DKIMRecordFor(domain, selector, alg, pub string) DKIMRecord {
	v := "v=DKIM1; k=" + alg + "; p=" + pub
	r := DKIMRecord{Name: selector + "._domainkey." + domain + ".", Value: v}
	for len(v) > 255 {
		r.Strings = append(r.Strings, v[:255])
		v = v[255:]
	}
	r.Strings = append(r.Strings, v)
	return r
}

func (k *DKIMKey) info(domain string) DKIMKeyInfo {
	return DKIMKeyInfo{Selector: k.Selector, Algorithm: k.Algorithm, State: k.State, CreatedAt: k.CreatedAt,
		ActivatedAt: k.ActivatedAt, RetiredAt: k.RetiredAt, Record: DKIMRecordFor(domain, k.Selector, k.Algorithm, k.PublicKey)}
}

func dkimOwner(domain, selector string) string { return "dkim:" + domain + ":" + selector }

// dkimDomain is the domain a scope may manage keys of: admins and the
// system any, a postmaster their own; users none.
func (s *Service) dkimDomain(tx *gorm.DB, sc Scope, name address.Domain) (*Domain, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	return s.domainTx(tx, sc, name)
}

// AddDKIMKeys makes a domain's first DKIM keys, which sign at once. A
// domain that has keys already gets ErrExists: RotateDKIMKeys replaces them.
func (s *Service) AddDKIMKeys(ctx context.Context, sc Scope, name address.Domain) ([]DKIMKeyInfo, error) {
	return s.newDKIMKeys(ctx, sc, name, false)
}

// RotateDKIMKeys makes a new pair for a domain that has keys: pending until
// DNS shows both records (ActivateDKIMKeys), then they replace the active
// pair. A domain without keys gets its first, active, pair. One rotation
// waits at a time: a second gets a ValidationError.
func (s *Service) RotateDKIMKeys(ctx context.Context, sc Scope, name address.Domain) ([]DKIMKeyInfo, error) {
	return s.newDKIMKeys(ctx, sc, name, true)
}

func (s *Service) newDKIMKeys(ctx context.Context, sc Scope, name address.Domain, rotate bool) ([]DKIMKeyInfo, error) {
	if s.sealer == nil {
		return nil, ErrNoSealer
	}
	// Look the domain up before the slow key generation, and again in the
	// transaction.
	if _, err := s.dkimDomain(s.db.Read(ctx), sc, name); err != nil {
		return nil, err
	}
	pairs, err := newDKIMPair()
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var tag [3]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return nil, fmt.Errorf("make selector: %w", err)
	}
	// Selectors tell the date a pair was made and its type; the random
	// part keeps two pairs of one day apart.
	base := "pd" + now.Format("20060102") + hex.EncodeToString(tag[:])
	var out []DKIMKeyInfo
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.dkimDomain(tx, sc, name)
		if err != nil {
			return err
		}
		var states []string
		if err := tx.Model(&DKIMKey{}).Where("domain_id = ? AND state <> ?", d.ID, DKIMRetired).Distinct().Pluck("state", &states).Error; err != nil {
			return fmt.Errorf("read DKIM keys of %s: %w", d.Name, err)
		}
		state := DKIMActive
		for _, st := range states {
			switch {
			case !rotate:
				return fmt.Errorf("DKIM keys of %s (rotate them instead): %w", d.Name, ErrExists)
			case st == DKIMPending:
				return invalid("", "a new DKIM key pair of %s is already waiting for its DNS records", d.Name)
			}
			state = DKIMPending
		}
		out = nil
		for _, p := range pairs {
			k := DKIMKey{DomainID: d.ID, Selector: base + "-" + p.suffix, Algorithm: p.alg, PublicKey: p.pub, State: state, CreatedAt: now}
			if k.PrivateKey, err = s.sealer.Seal(p.priv, dkimOwner(d.Name, k.Selector)); err != nil {
				return fmt.Errorf("seal DKIM key: %w", err)
			}
			if state == DKIMActive {
				k.ActivatedAt = &now
			}
			if err := tx.Create(&k).Error; err != nil {
				if database.IsUniqueViolation(err) {
					return fmt.Errorf("DKIM selector %s: %w", k.Selector, ErrExists)
				}
				return fmt.Errorf("insert DKIM key: %w", err)
			}
			out = append(out, k.info(d.Name))
		}
		return s.audit(tx, sc, &d.ID, "dkim.add", "%s: %s and %s (%s)", d.Name, out[0].Selector, out[1].Selector, state)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type dkimNew struct {
	alg, suffix string
	pub, priv   string // base64 public key, base64 PKCS #8
}

func newDKIMPair() ([]dkimNew, error) {
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make Ed25519 key: %w", err)
	}
	rsaPriv, err := rsa.GenerateKey(rand.Reader, dkimRSABits)
	if err != nil {
		return nil, fmt.Errorf("make RSA key: %w", err)
	}
	rsaPub, err := x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode RSA key: %w", err)
	}
	var out []dkimNew
	for _, k := range []struct {
		alg, suffix string
		pub         []byte
		priv        any
	}{{DKIMEd25519, "ed", edPub, edPriv}, {DKIMRSA, "rsa", rsaPub, rsaPriv}} {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return nil, fmt.Errorf("encode %s key: %w", k.alg, err)
		}
		out = append(out, dkimNew{alg: k.alg, suffix: k.suffix, pub: base64.StdEncoding.EncodeToString(k.pub), priv: base64.StdEncoding.EncodeToString(der)})
	}
	return out, nil
}

// DKIMKeys lists a domain's keys, active first, then pending, then
// retired, newest first within each.
func (s *Service) DKIMKeys(ctx context.Context, sc Scope, name address.Domain) ([]DKIMKeyInfo, error) {
	db := s.db.Read(ctx)
	d, err := s.dkimDomain(db, sc, name)
	if err != nil {
		return nil, err
	}
	var ks []DKIMKey
	err = db.Where("domain_id = ?", d.ID).
		Order("CASE state WHEN 'active' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, created_at DESC, algorithm").Find(&ks).Error
	if err != nil {
		return nil, fmt.Errorf("read DKIM keys of %s: %w", d.Name, err)
	}
	out := make([]DKIMKeyInfo, len(ks))
	for i := range ks {
		out[i] = ks[i].info(d.Name)
	}
	return out, nil
}

// DKIMSigner is an active key, opened, for signing.
type DKIMSigner struct {
	Domain    string
	Selector  string
	Algorithm string
	Key       crypto.Signer
}

// DKIMSigners returns the active keys of a hosted domain (none for a
// domain that is not hosted or has no keys), for the servers' signing of
// outgoing mail.
func (s *Service) DKIMSigners(ctx context.Context, name address.Domain) ([]DKIMSigner, error) {
	var ks []DKIMKey
	err := s.db.Read(ctx).Joins("JOIN domains ON domains.id = dkim_keys.domain_id").
		Where("domains.name = ? AND dkim_keys.state = ?", name.String(), DKIMActive).Order("dkim_keys.algorithm").Find(&ks).Error
	if err != nil {
		return nil, fmt.Errorf("read DKIM keys of %s: %w", name, err)
	}
	if len(ks) > 0 && s.sealer == nil {
		return nil, ErrNoSealer
	}
	out := make([]DKIMSigner, 0, len(ks))
	for _, k := range ks {
		plain, err := s.sealer.Open(k.PrivateKey, dkimOwner(name.String(), k.Selector))
		if err != nil {
			return nil, fmt.Errorf("open DKIM key %s of %s: %w", k.Selector, name, err)
		}
		der, err := base64.StdEncoding.DecodeString(plain)
		if err != nil {
			return nil, fmt.Errorf("DKIM key %s of %s: %w", k.Selector, name, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("DKIM key %s of %s: %w", k.Selector, name, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("DKIM key %s of %s: not a signing key", k.Selector, name)
		}
		out = append(out, DKIMSigner{Domain: name.String(), Selector: k.Selector, Algorithm: k.Algorithm, Key: signer})
	}
	return out, nil
}

// PendingDKIM is a domain's pair waiting for DNS.
type PendingDKIM struct {
	DomainID int64
	Domain   string
	Records  []DKIMRecord
}

// PendingDKIMKeys lists the pairs waiting for DNS, by domain, for the
// servers' check that activates them.
func (s *Service) PendingDKIMKeys(ctx context.Context) ([]PendingDKIM, error) {
	var rows []struct {
		DKIMKey
		DomainName string
	}
	err := s.db.Read(ctx).Model(&DKIMKey{}).Select("dkim_keys.*, domains.name AS domain_name").
		Joins("JOIN domains ON domains.id = dkim_keys.domain_id").Where("dkim_keys.state = ?", DKIMPending).
		Order("dkim_keys.domain_id, dkim_keys.algorithm").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read pending DKIM keys: %w", err)
	}
	var out []PendingDKIM
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].DomainID != r.DomainID {
			out = append(out, PendingDKIM{DomainID: r.DomainID, Domain: r.DomainName})
		}
		p := &out[len(out)-1]
		p.Records = append(p.Records, DKIMRecordFor(r.DomainName, r.Selector, r.Algorithm, r.PublicKey))
	}
	return out, nil
}

// ActivateDKIMKeys makes a domain's pending pair the active one, once DNS
// shows its records: the active pair is retired (its records to stay
// published for DKIMGrace). No pending pair: nothing changes.
func (s *Service) ActivateDKIMKeys(ctx context.Context, domainID int64) error {
	now := s.clock()
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&DKIMKey{}).Where("domain_id = ? AND state = ?", domainID, DKIMPending).
			Updates(map[string]any{"state": "activating"})
		if res.Error != nil {
			return fmt.Errorf("activate DKIM keys: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if err := tx.Model(&DKIMKey{}).Where("domain_id = ? AND state = ?", domainID, DKIMActive).
			Updates(map[string]any{"state": DKIMRetired, "retired_at": now}).Error; err != nil {
			return fmt.Errorf("retire DKIM keys: %w", err)
		}
		if err := tx.Model(&DKIMKey{}).Where("domain_id = ? AND state = ?", domainID, "activating").
			Updates(map[string]any{"state": DKIMActive, "activated_at": now}).Error; err != nil {
			return fmt.Errorf("activate DKIM keys: %w", err)
		}
		return s.audit(tx, SystemScope("dkim"), &domainID, "dkim.activate", "new DKIM keys found in DNS, now signing")
	})
}
