package tenants

import (
	"context"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/address"
)

// AliasInfo is an alias with its domain, for lists and search results.
type AliasInfo struct {
	Domain  string
	Address string // alias@domain
	Mailbox string // mailbox@domain
}

// SearchResult is what a search across domains found, each list cut at the
// limit; the totals say how many matched.
type SearchResult struct {
	Domains      []DomainInfo
	DomainTotal  int64
	Mailboxes    []MailboxInfo
	MailboxTotal int64
	Aliases      []AliasInfo
	AliasTotal   int64
}

// Search finds domains, mailboxes and aliases whose name, address or full
// name contains q, in every domain the scope reaches.
func (s *Service) Search(ctx context.Context, sc Scope, q string, limit int) (*SearchResult, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, invalid("q", "type something to search for")
	}
	if err := checkText("q", q, 200); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var r SearchResult
	var err error
	if r.Domains, r.DomainTotal, err = s.Domains(ctx, sc, DomainQuery{Search: q, Limit: limit}); err != nil {
		return nil, err
	}
	if r.Mailboxes, r.MailboxTotal, err = s.Mailboxes(ctx, sc, MailboxQuery{Search: q, Limit: limit}); err != nil {
		return nil, err
	}
	if r.Aliases, r.AliasTotal, err = s.SearchAliases(ctx, sc, "", q, limit, 0); err != nil {
		return nil, err
	}
	return &r, nil
}

// SearchAliases lists aliases whose address contains q (all when q is
// empty), in one domain or, when domain is empty, every domain the scope
// reaches, with the total for paging.
func (s *Service) SearchAliases(ctx context.Context, sc Scope, domain address.Domain, q string, limit, offset int) ([]AliasInfo, int64, error) {
	if sc.Role == RoleUser {
		return nil, 0, ErrForbidden
	}
	db := s.db.Read(ctx).Table("addresses").Scopes(sc.domains("addresses.domain_id")).
		Joins("JOIN domains ON domains.id = addresses.domain_id").
		Joins("JOIN mailboxes ON mailboxes.id = addresses.mailbox_id").
		Where("addresses.is_alias")
	if domain != "" {
		d, err := s.Domain(ctx, sc, domain)
		if err != nil {
			return nil, 0, err
		}
		db = db.Where("addresses.domain_id = ?", d.ID)
	}
	if q != "" {
		pat := database.Contains(q)
		db = db.Where("(addresses.local_part || '@' || domains.name LIKE ? ESCAPE '\\' OR mailboxes.local_part LIKE ? ESCAPE '\\')", pat, pat)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count aliases: %w", err)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []AliasInfo
	err := db.Select(`domains.name AS domain, addresses.local_part || '@' || domains.name AS address,
		mailboxes.local_part || '@' || domains.name AS mailbox`).
		Order("domains.name, addresses.local_part").Limit(limit).Offset(offset).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list aliases: %w", err)
	}
	return out, total, nil
}
