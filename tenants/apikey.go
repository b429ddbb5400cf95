package tenants

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/auth"
)

// ErrBadAPIKey is returned for a key that is unknown or wrong.
var ErrBadAPIKey = errors.New("invalid API key")

// CreateAPIKey makes a provisioning key: an admin key when domain is empty,
// else a key that reaches that domain only. The key is returned once and
// only its hash is kept.
func (s *Service) CreateAPIKey(ctx context.Context, sc Scope, domain address.Domain, description string) (string, *APIKey, error) {
	if err := checkText("description", description, 200); err != nil {
		return "", nil, err
	}
	key, prefix, hash, err := auth.NewAPIKey()
	if err != nil {
		return "", nil, fmt.Errorf("make API key: %w", err)
	}
	k := APIKey{Prefix: prefix, Hash: hash, Description: description, CreatedAt: s.clock()}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		if domain == "" {
			if !sc.AllDomains() {
				return ErrForbidden
			}
		} else {
			d, err := s.domainTx(tx, sc, domain)
			if err != nil {
				return err
			}
			if !sc.mayManageDomain(d.ID) {
				return ErrForbidden
			}
			k.DomainID = &d.ID
		}
		if err := tx.Create(&k).Error; err != nil {
			return fmt.Errorf("insert API key: %w", err)
		}
		return s.audit(tx, sc, k.DomainID, "apikey.create", "%s… %s", prefix, description)
	})
	if err != nil {
		return "", nil, err
	}
	return key, &k, nil
}

// AuthenticateAPIKey returns the scope a bearer key grants.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key, remote string) (Scope, error) {
	var k APIKey
	err := s.db.Read(ctx).Where("prefix = ?", auth.APIKeyPrefix(key)).Take(&k).Error
	if notFound(err) || (err == nil && !auth.VerifyAPIKey(key, k.Hash)) {
		return Scope{}, ErrBadAPIKey
	}
	if err != nil {
		return Scope{}, fmt.Errorf("look up API key: %w", err)
	}
	actor := "apikey:" + k.Prefix
	if k.DomainID == nil {
		return Scope{Role: RoleAdmin, Actor: actor, RemoteAddr: remote}, nil
	}
	return Scope{Role: RolePostmaster, Actor: actor, RemoteAddr: remote, DomainID: *k.DomainID}, nil
}

// DeleteAPIKey revokes a key by its prefix.
func (s *Service) DeleteAPIKey(ctx context.Context, sc Scope, prefix string) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		var k APIKey
		err := tx.Scopes(sc.domains("domain_id")).Where("prefix = ?", prefix).Take(&k).Error
		if notFound(err) {
			return fmt.Errorf("API key %s: %w", prefix, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("look up API key: %w", err)
		}
		if err := tx.Delete(&APIKey{}, k.ID).Error; err != nil {
			return fmt.Errorf("delete API key: %w", err)
		}
		return s.audit(tx, sc, k.DomainID, "apikey.delete", "%s…", prefix)
	})
}

// APIKeys lists keys the scope reaches.
func (s *Service) APIKeys(ctx context.Context, sc Scope) ([]APIKey, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	var ks []APIKey
	if err := s.db.Read(ctx).Scopes(sc.domains("domain_id")).Order("id").Find(&ks).Error; err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return ks, nil
}
