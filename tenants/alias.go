package tenants

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// CatchrestLocalpart is the local part of the mailbox or alias that receives
// every message for its domain that no other address claims (MailMax).
const CatchrestLocalpart = "catchrest"

// Alias is an extra address that delivers to a mailbox.
type Alias struct {
	Address     string // alias@domain
	Mailbox     string // mailbox@domain
	InDirectory bool   // shown in the domain's directory with its mailbox
}

// AddAlias makes alias deliver to the mailbox at target, both in the same
// domain.
func (s *Service) AddAlias(ctx context.Context, sc Scope, alias, target address.Address) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	if err := address.ValidMailboxName(alias.Local); err != nil {
		return invalid("local_part", "%v", err)
	}
	if alias.Domain != target.Domain {
		return invalid("mailbox", "an alias and its mailbox must be in the same domain (%s, %s)", alias.Domain, target.Domain)
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, target)
		if err != nil {
			return err
		}
		var d Domain
		if err := tx.Take(&d, m.DomainID).Error; err != nil {
			return fmt.Errorf("look up domain: %w", err)
		}
		if err := s.addAliasTx(tx, sc, &d, alias.Local, m); err != nil {
			return err
		}
		return s.audit(tx, sc, &d.ID, "alias.add", "%s -> %s", alias, target)
	})
}

func (s *Service) addAliasTx(tx *gorm.DB, sc Scope, d *Domain, local address.Localpart, m *Mailbox) error {
	if !sc.mayManageDomain(d.ID) {
		return ErrForbidden
	}
	if d.MaxAliases > 0 {
		// Lock the domain row so concurrent creators count one after
		// the other.
		if err := lockDomain(tx, d.ID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&addressRow{}).Where("domain_id = ? AND is_alias", d.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count aliases: %w", err)
		}
		if n >= d.MaxAliases {
			return &LimitError{What: "aliases", Limit: d.MaxAliases}
		}
	}
	if err := s.checkFree(tx, d, local); err != nil {
		return err
	}
	return s.claimAddress(tx, d, local, m.ID, true)
}

// RemoveAlias removes an alias; a mailbox's own address is not an alias
// and stays.
func (s *Service) RemoveAlias(ctx context.Context, sc Scope, alias address.Address) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, alias.Domain)
		if err != nil {
			return err
		}
		res := tx.Where("domain_id = ? AND local_part = ? AND is_alias", d.ID, string(alias.Local)).Delete(&addressRow{})
		if res.Error != nil {
			return fmt.Errorf("delete alias: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("alias %s: %w", alias, ErrNotFound)
		}
		return s.audit(tx, sc, &d.ID, "alias.remove", "%s", alias)
	})
}

// Aliases lists the aliases of a domain, or of one mailbox when mailbox is
// not zero.
func (s *Service) Aliases(ctx context.Context, sc Scope, domain address.Domain, mailbox address.Address) ([]Alias, error) {
	db := s.db.Read(ctx)
	d, err := s.domainTx(db, sc, domain)
	if err != nil {
		return nil, err
	}
	q := db.Table("addresses").
		Select("addresses.local_part || '@' || ? AS address, mailboxes.local_part || '@' || ? AS mailbox, addresses.in_directory", d.Name, d.Name).
		Joins("JOIN mailboxes ON mailboxes.id = addresses.mailbox_id").
		Where("addresses.domain_id = ? AND addresses.is_alias", d.ID)
	if sc.Role == RoleUser {
		q = q.Where("addresses.mailbox_id = ?", sc.MailboxID)
	}
	if !mailbox.IsZero() {
		m, err := s.mailboxTx(db, sc, mailbox)
		if err != nil {
			return nil, err
		}
		q = q.Where("addresses.mailbox_id = ?", m.ID)
	}
	var out []Alias
	if err := q.Order("addresses.local_part").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return out, nil
}

// Addresses returns every address of a mailbox: its own first, then its
// aliases, then the same local parts in the domain's alias domains. These
// are the addresses a user may send as.
func (s *Service) Addresses(ctx context.Context, sc Scope, m *Mailbox) ([]address.Address, error) {
	db := s.db.Read(ctx)
	if _, err := s.MailboxByID(ctx, sc, m.ID); err != nil {
		return nil, err
	}
	var d Domain
	if err := db.Take(&d, m.DomainID).Error; err != nil {
		return nil, fmt.Errorf("look up domain: %w", err)
	}
	var locals []string
	if err := db.Model(&addressRow{}).Where("mailbox_id = ?", m.ID).Order("is_alias, local_part").Pluck("local_part", &locals).Error; err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var aliasDomains []string
	if err := db.Model(&Domain{}).Where("alias_of_id = ? AND active", d.ID).Order("name").Pluck("name", &aliasDomains).Error; err != nil {
		return nil, fmt.Errorf("list alias domains: %w", err)
	}
	var out []address.Address
	for _, dn := range append([]string{d.Name}, aliasDomains...) {
		for _, l := range locals {
			out = append(out, address.Address{Local: address.Localpart(l), Domain: address.Domain(dn)})
		}
	}
	return out, nil
}

// SetAliasDirectory sets an alias's "show in directory" switch: a shown
// alias is listed with its mailbox in the domain's directory (webmail,
// CardDAV, LDAP), as long as the mailbox itself is shown.
func (s *Service) SetAliasDirectory(ctx context.Context, sc Scope, alias address.Address, show bool) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, alias.Domain)
		if err != nil {
			return err
		}
		res := tx.Model(&addressRow{}).Where("domain_id = ? AND local_part = ? AND is_alias", d.ID, string(alias.Local)).
			Update("in_directory", show)
		if res.Error != nil {
			return fmt.Errorf("set alias directory switch: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("alias %s: %w", alias, ErrNotFound)
		}
		return s.audit(tx, sc, &d.ID, "alias.update", "%s: in_directory=%t", alias, show)
	})
}
