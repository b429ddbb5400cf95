package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/address"
)

// DomainUpdate holds the domain fields to change; nil fields stay.
type DomainUpdate struct {
	Description  *string
	Active       *bool
	MaxMailboxes *int64
	MaxAliases   *int64
	DefaultQuota *int64
	// MaxMailboxQuota and StorageTotal bound what postmasters grant (see
	// Domain); 0 clears them.
	MaxMailboxQuota *int64
	StorageTotal    *int64
	// AliasOf makes the domain an alias of another; a pointer to the zero
	// Domain makes it a domain of its own again.
	AliasOf *address.Domain
	// Postmaster names the mailbox that postmaster@ and abuse@ of the
	// domain reach; a pointer to the zero Address clears it.
	Postmaster *address.Address
}

// DomainInfo is a domain with its counts, for lists.
type DomainInfo struct {
	Domain
	AliasOf    string
	Postmaster string // the mailbox postmaster@ and abuse@ reach, when named
	// Postmasters counts the mailboxes that manage the domain.
	Postmasters int64
	Mailboxes   int64
	Aliases     int64
}

// CreateDomain adds a hosted domain.
func (s *Service) CreateDomain(ctx context.Context, sc Scope, name address.Domain, description string) (*Domain, error) {
	if !sc.AllDomains() {
		return nil, ErrForbidden
	}
	if name == "" {
		return nil, invalid("name", "a domain name is required")
	}
	if err := checkText("description", description, 500); err != nil {
		return nil, err
	}
	now := s.clock()
	d := Domain{Name: name.String(), Description: description, Active: true, CreatedAt: now, UpdatedAt: now}
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&d).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return fmt.Errorf("domain %s: %w", name, ErrExists)
			}
			return fmt.Errorf("insert domain: %w", err)
		}
		return s.audit(tx, sc, &d.ID, "domain.create", "%s", d.Name)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Domain returns one domain the scope reaches.
func (s *Service) Domain(ctx context.Context, sc Scope, name address.Domain) (*Domain, error) {
	return s.domainTx(s.db.Read(ctx), sc, name)
}

func (s *Service) domainTx(tx *gorm.DB, sc Scope, name address.Domain) (*Domain, error) {
	var d Domain
	err := tx.Scopes(sc.domains("id")).Where("name = ?", name.String()).Take(&d).Error
	if notFound(err) {
		return nil, fmt.Errorf("domain %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("look up domain %s: %w", name, err)
	}
	return &d, nil
}

// DomainQuery filters and pages a domain list.
type DomainQuery struct {
	Search string
	Limit  int
	Offset int
}

// Domains lists the domains the scope reaches, with their counts.
func (s *Service) Domains(ctx context.Context, sc Scope, q DomainQuery) ([]DomainInfo, int64, error) {
	db := s.db.Read(ctx).Model(&Domain{}).Scopes(sc.domains("domains.id"))
	if q.Search != "" {
		db = db.Where("domains.name LIKE ? ESCAPE '\\'", database.Contains(q.Search))
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count domains: %w", err)
	}
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	var rows []DomainInfo
	err := db.Select(`domains.*,
		(SELECT COUNT(*) FROM mailboxes m WHERE m.domain_id = domains.id) AS mailboxes,
		(SELECT COUNT(*) FROM addresses a WHERE a.domain_id = domains.id AND a.is_alias) AS aliases,
		(SELECT COUNT(*) FROM mailboxes m WHERE m.domain_id = domains.id AND m.postmaster) AS postmasters,
		(SELECT p.name FROM domains p WHERE p.id = domains.alias_of_id) AS alias_of,
		(SELECT pa.local_part || '@' || pd.name FROM mailboxes pa JOIN domains pd ON pd.id = pa.domain_id
		  WHERE pa.id = domains.postmaster_mailbox_id) AS postmaster`).
		Order("domains.name").Limit(q.Limit).Offset(q.Offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list domains: %w", err)
	}
	return rows, total, nil
}

// UpdateDomain changes a domain's settings.
func (s *Service) UpdateDomain(ctx context.Context, sc Scope, name address.Domain, u DomainUpdate) (*Domain, error) {
	if !sc.AllDomains() {
		return nil, ErrForbidden
	}
	for field, v := range map[string]*int64{"max_mailboxes": u.MaxMailboxes, "max_aliases": u.MaxAliases, "default_quota": u.DefaultQuota,
		"max_mailbox_quota": u.MaxMailboxQuota, "storage_total": u.StorageTotal} {
		if v != nil && *v < 0 {
			return nil, invalid(field, "must not be negative")
		}
	}
	if u.Description != nil {
		if err := checkText("description", *u.Description, 500); err != nil {
			return nil, err
		}
	}
	var d *Domain
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var err error
		d, err = s.domainTx(tx, sc, name)
		if err != nil {
			return err
		}
		var changes []string
		if u.Description != nil {
			d.Description = *u.Description
			changes = append(changes, "description")
		}
		if u.Active != nil {
			d.Active = *u.Active
			changes = append(changes, fmt.Sprintf("active=%t", d.Active))
		}
		if u.MaxMailboxes != nil {
			d.MaxMailboxes = *u.MaxMailboxes
			changes = append(changes, fmt.Sprintf("max_mailboxes=%d", d.MaxMailboxes))
		}
		if u.MaxAliases != nil {
			d.MaxAliases = *u.MaxAliases
			changes = append(changes, fmt.Sprintf("max_aliases=%d", d.MaxAliases))
		}
		if u.DefaultQuota != nil {
			d.DefaultQuota = *u.DefaultQuota
			changes = append(changes, fmt.Sprintf("default_quota=%d", d.DefaultQuota))
		}
		if u.MaxMailboxQuota != nil {
			d.MaxMailboxQuota = *u.MaxMailboxQuota
			changes = append(changes, fmt.Sprintf("max_mailbox_quota=%d", d.MaxMailboxQuota))
		}
		if u.StorageTotal != nil {
			d.StorageTotal = *u.StorageTotal
			changes = append(changes, fmt.Sprintf("storage_total=%d", d.StorageTotal))
		}
		if d.MaxMailboxQuota > 0 && d.DefaultQuota > d.MaxMailboxQuota {
			// The default is what a mailbox without a quota gets: it
			// must be one a postmaster could grant.
			field := "default_quota"
			if u.DefaultQuota == nil {
				field = "max_mailbox_quota"
			}
			return invalid(field, "the default quota (%s) must not exceed the per-mailbox maximum (%s)", FormatSize(d.DefaultQuota), FormatSize(d.MaxMailboxQuota))
		}
		if u.AliasOf != nil {
			if err := s.setAliasOf(tx, sc, d, *u.AliasOf); err != nil {
				return err
			}
			changes = append(changes, fmt.Sprintf("alias_of=%s", *u.AliasOf))
		}
		if u.Postmaster != nil {
			if u.Postmaster.IsZero() {
				d.PostmasterMailboxID = nil
			} else {
				mb, err := s.mailboxByAddressTx(tx, SystemScope(""), *u.Postmaster)
				if err != nil {
					if errors.Is(err, ErrNotFound) {
						return invalid("postmaster", "%s is not a mailbox or alias here", u.Postmaster)
					}
					return err
				}
				d.PostmasterMailboxID = &mb.ID
			}
			changes = append(changes, fmt.Sprintf("postmaster=%s", u.Postmaster))
		}
		d.UpdatedAt = s.clock()
		if err := tx.Save(d).Error; err != nil {
			return fmt.Errorf("update domain: %w", err)
		}
		return s.audit(tx, sc, &d.ID, "domain.update", "%s: %s", d.Name, strings.Join(changes, ", "))
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) setAliasOf(tx *gorm.DB, sc Scope, d *Domain, target address.Domain) error {
	if target == "" {
		d.AliasOfID = nil
		return nil
	}
	if target.String() == d.Name {
		return invalid("alias_of", "a domain can't be an alias of itself")
	}
	p, err := s.domainTx(tx, sc, target)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return invalid("alias_of", "domain %s is not hosted here", target)
		}
		return err
	}
	if p.AliasOfID != nil {
		return invalid("alias_of", "%s is itself an alias domain; name its primary domain", target)
	}
	var n int64
	if err := tx.Model(&Domain{}).Where("alias_of_id = ?", d.ID).Count(&n).Error; err != nil {
		return fmt.Errorf("count alias domains: %w", err)
	}
	if n > 0 {
		return invalid("alias_of", "%s has alias domains of its own and can't become an alias", d.Name)
	}
	if err := tx.Model(&addressRow{}).Where("domain_id = ?", d.ID).Count(&n).Error; err != nil {
		return fmt.Errorf("count addresses: %w", err)
	}
	if n > 0 {
		return invalid("alias_of", "%s still has %d mailboxes or aliases; an alias domain has none of its own", d.Name, n)
	}
	d.AliasOfID = &p.ID
	return nil
}

// DeleteDomain removes a domain. A domain that still has mailboxes, or that
// other domains alias, is refused unless force is set; force removes them
// too.
func (s *Service) DeleteDomain(ctx context.Context, sc Scope, name address.Domain, force bool) error {
	if !sc.AllDomains() {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, name)
		if err != nil {
			return err
		}
		var mailboxes, aliases int64
		if err := tx.Model(&Mailbox{}).Where("domain_id = ?", d.ID).Count(&mailboxes).Error; err != nil {
			return fmt.Errorf("count mailboxes: %w", err)
		}
		if err := tx.Model(&Domain{}).Where("alias_of_id = ?", d.ID).Count(&aliases).Error; err != nil {
			return fmt.Errorf("count alias domains: %w", err)
		}
		if !force && (mailboxes > 0 || aliases > 0) {
			return &NotEmptyError{Domain: name, Mailboxes: mailboxes, AliasDomains: aliases}
		}
		var ids []int64
		if err := tx.Model(&Domain{}).Where("alias_of_id = ?", d.ID).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("list alias domains: %w", err)
		}
		ids = append(ids, d.ID)
		if err := tx.Model(&Domain{}).Where("postmaster_mailbox_id IN (SELECT id FROM mailboxes WHERE domain_id IN ?)", ids).
			Update("postmaster_mailbox_id", nil).Error; err != nil {
			return fmt.Errorf("clear postmasters: %w", err)
		}
		// Foreign keys cascade on both engines; mailbox-level rows go with
		// their mailboxes.
		if err := tx.Where("domain_id IN ?", ids).Delete(&Mailbox{}).Error; err != nil {
			return fmt.Errorf("delete mailboxes: %w", err)
		}
		if err := tx.Where("id IN ? AND id <> ?", ids, d.ID).Delete(&Domain{}).Error; err != nil {
			return fmt.Errorf("delete alias domains: %w", err)
		}
		if err := tx.Delete(&Domain{}, d.ID).Error; err != nil {
			return fmt.Errorf("delete domain: %w", err)
		}
		return s.audit(tx, sc, nil, "domain.delete", "%s (%d mailboxes, %d alias domains)", d.Name, mailboxes, aliases)
	})
}

// primaryDomain follows an alias domain to its primary.
func (s *Service) primaryDomain(tx *gorm.DB, d *Domain) (*Domain, error) {
	if d.AliasOfID == nil {
		return d, nil
	}
	var p Domain
	if err := tx.Take(&p, *d.AliasOfID).Error; err != nil {
		return nil, fmt.Errorf("look up primary of %s: %w", d.Name, err)
	}
	return &p, nil
}

// lockDomain takes a row lock on a domain (PostgreSQL; SQLite writes are
// serialised anyway) for checks that count and then insert.
func lockDomain(tx *gorm.DB, id int64) error {
	var d Domain
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").Take(&d, id).Error; err != nil {
		return fmt.Errorf("lock domain: %w", err)
	}
	return nil
}
