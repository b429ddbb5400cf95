package tenants

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// DomainRules are the rules a postmaster sets for the domain's users.
type DomainRules struct {
	// RequireTwoFactor: users must sign in to the panel and webmail with
	// two factors (and so log mail programs in with app passwords).
	RequireTwoFactor bool
	// UsersChangePassword: users may change their own password.
	UsersChangePassword bool
	// UsersSetRetention: users may change their own folders' message
	// expiry (Mailtraq's "Change Mailbox Auto-Expiry").
	UsersSetRetention bool
	// Retention, when not nil, replaces the domain's message expiry
	// defaults in the same transaction (SetDomainRetention alone sets
	// only those).
	Retention *[]Retention
}

// DomainRules returns the domain's rules.
func (s *Service) DomainRules(ctx context.Context, sc Scope, name address.Domain) (*DomainRules, error) {
	d, err := s.domainTx(s.db.Read(ctx), sc, name)
	if err != nil {
		return nil, err
	}
	return &DomainRules{RequireTwoFactor: d.RequireTwoFactor, UsersChangePassword: !d.PasswordChangeOff, UsersSetRetention: d.UsersSetRetention}, nil
}

// SetDomainRules sets the domain's rules (its postmaster or an
// administrator).
func (s *Service) SetDomainRules(ctx context.Context, sc Scope, name address.Domain, r DomainRules) error {
	if r.Retention != nil {
		if err := checkRetention(*r.Retention); err != nil {
			return err
		}
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, name)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		if err := tx.Model(&Domain{}).Where("id = ?", d.ID).Updates(map[string]any{
			"require_two_factor":  r.RequireTwoFactor,
			"password_change_off": !r.UsersChangePassword,
			"users_set_retention": r.UsersSetRetention,
		}).Error; err != nil {
			return fmt.Errorf("set domain rules: %w", err)
		}
		if r.Retention != nil {
			if err := s.setRetentionTx(tx, d.ID, 0, *r.Retention); err != nil {
				return err
			}
		}
		return s.audit(tx, sc, &d.ID, "domain.rules", "%s: two factors required %v, users change their password %v, users set retention %v", d.Name, r.RequireTwoFactor, r.UsersChangePassword, r.UsersSetRetention)
	})
}

// userMayChangePassword is the one check of the domain's "users may change
// their own password" rule, for every path by which a user changes it
// (UpdateMailbox with a user's scope: the settings page, and
// ChangeOwnPassword through it).
func (s *Service) userMayChangePassword(tx *gorm.DB, domainID int64) error {
	var d Domain
	if err := tx.Select("password_change_off").Take(&d, domainID).Error; err != nil {
		return fmt.Errorf("look up domain: %w", err)
	}
	if d.PasswordChangeOff {
		return invalid("password", "your domain does not let users change their own password; ask your postmaster")
	}
	return nil
}
