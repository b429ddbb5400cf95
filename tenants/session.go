package tenants

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// SessionLogin rebuilds the login a panel session stands for (an
// administrator's id, or a mailbox's), checking again that the account may
// still log in: removing, disabling or expiring an account ends its
// sessions at their next request. It is a system-scope entry point, like
// ResolveLogin. A removed account gives ErrNotFound; a disabled or expired
// one a *LoginError.
func (s *Service) SessionLogin(ctx context.Context, adminID, mailboxID int64) (*Login, error) {
	db := s.db.Read(ctx)
	if adminID != 0 {
		var a Admin
		if err := db.Take(&a, adminID).Error; err != nil {
			if notFound(err) {
				return nil, fmt.Errorf("administrator %d: %w", adminID, ErrNotFound)
			}
			return nil, fmt.Errorf("look up administrator: %w", err)
		}
		l := &Login{Admin: &a}
		return l, s.sessionTwoFactor(db, l)
	}
	var m Mailbox
	if err := db.Take(&m, mailboxID).Error; err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("mailbox %d: %w", mailboxID, ErrNotFound)
		}
		return nil, fmt.Errorf("look up mailbox: %w", err)
	}
	var d Domain
	if err := db.Take(&d, m.DomainID).Error; err != nil {
		return nil, fmt.Errorf("look up domain: %w", err)
	}
	l := &Login{Mailbox: &m, Domain: &d, Address: address.Address{Local: address.Localpart(m.LocalPart), Domain: address.Domain(d.Name)}}
	if reason := mailboxRefusal(&m, &d, s.clock()); reason != 0 {
		return nil, &LoginError{Reason: reason, Name: l.Address.String()}
	}
	return l, s.sessionTwoFactor(db, l)
}

// sessionTwoFactor fills the login's two-factor state: a session of an
// account that must have two factors and has none may only enrol.
func (s *Service) sessionTwoFactor(db *gorm.DB, l *Login) error {
	var err error
	if l.TwoFactor, err = s.twoFactorOn(db, l); err != nil {
		return err
	}
	l.TwoFactorRequired, err = s.twoFactorRequired(db, l)
	return err
}
