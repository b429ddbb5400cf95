package tenants

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// Catchrest says where a domain's catchrest address delivers: Mailbox is
// the mailbox's address, empty when the domain has no catchrest; IsMailbox
// is true when catchrest is itself a mailbox rather than an alias of one.
type Catchrest struct {
	Mailbox   string
	IsMailbox bool
}

// DomainCatchrest returns a domain's catchrest set-up.
func (s *Service) DomainCatchrest(ctx context.Context, sc Scope, domain address.Domain) (*Catchrest, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	db := s.db.Read(ctx)
	d, err := s.domainTx(db, sc, domain)
	if err != nil {
		return nil, err
	}
	row, err := s.addressRow(db, d.ID, CatchrestLocalpart)
	if err != nil || row == nil {
		return &Catchrest{}, err
	}
	var m Mailbox
	if err := db.Take(&m, row.MailboxID).Error; err != nil {
		return nil, fmt.Errorf("look up catchrest mailbox: %w", err)
	}
	return &Catchrest{Mailbox: m.LocalPart + "@" + d.Name, IsMailbox: !row.IsAlias}, nil
}

// SetCatchrest makes the domain's catchrest an alias of the mailbox target
// (a local part of the same domain), replacing an earlier catchrest alias;
// an empty target removes it. A catchrest that is a mailbox of its own
// stays: remove that mailbox first.
func (s *Service) SetCatchrest(ctx context.Context, sc Scope, domain address.Domain, target address.Localpart) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, domain)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		if d.AliasOfID != nil {
			return invalid("mailbox", "%s is an alias domain; set catchrest on its primary domain", d.Name)
		}
		row, err := s.addressRow(tx, d.ID, CatchrestLocalpart)
		if err != nil {
			return err
		}
		if row != nil && !row.IsAlias {
			return invalid("mailbox", "catchrest@%s is a mailbox of its own; remove that mailbox to make catchrest an alias", d.Name)
		}
		if row != nil {
			if err := tx.Delete(&addressRow{}, row.ID).Error; err != nil {
				return fmt.Errorf("remove catchrest alias: %w", err)
			}
		}
		if target == "" {
			if row == nil {
				return nil
			}
			return s.audit(tx, sc, &d.ID, "catchrest.remove", "%s", d.Name)
		}
		m, err := s.mailboxTx(tx, sc, address.Address{Local: target, Domain: address.Domain(d.Name)})
		if errors.Is(err, ErrNotFound) {
			return invalid("mailbox", "%s@%s is not a mailbox", target, d.Name)
		}
		if err != nil {
			return err
		}
		if err := s.addAliasTx(tx, sc, d, CatchrestLocalpart, m); err != nil {
			return err
		}
		return s.audit(tx, sc, &d.ID, "catchrest.set", "%s -> %s@%s", d.Name, m.LocalPart, d.Name)
	})
}

// Postmasters lists the mailboxes of a domain that may manage it.
func (s *Service) Postmasters(ctx context.Context, sc Scope, domain address.Domain) ([]string, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	db := s.db.Read(ctx)
	d, err := s.domainTx(db, sc, domain)
	if err != nil {
		return nil, err
	}
	var locals []string
	if err := db.Model(&Mailbox{}).Where("domain_id = ? AND postmaster", d.ID).Order("local_part").Pluck("local_part", &locals).Error; err != nil {
		return nil, fmt.Errorf("list postmasters: %w", err)
	}
	out := make([]string, len(locals))
	for i, l := range locals {
		out[i] = l + "@" + d.Name
	}
	return out, nil
}
