package tenants

import (
	"context"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/database"
)

// DirectoryEntry is one address of a domain's directory: a mailbox's own
// address and its full name.
type DirectoryEntry struct {
	Address string // ASCII form, local@domain
	Name    string
}

// MaxDirectory bounds one directory answer.
const MaxDirectory = 200

// Directory lists the active mailboxes of the scope's own domain whose
// address or full name contains search (case-insensitive), by address, for
// webmail's address completion. Unlike Mailboxes, a user's scope reaches
// every mailbox of its domain here, but only addresses and names; other
// domains stay out of reach whatever the scope. Administrators have no own
// domain and get nothing.
func (s *Service) Directory(ctx context.Context, sc Scope, search string, limit int) ([]DirectoryEntry, error) {
	if !sc.valid() || sc.DomainID == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > MaxDirectory {
		limit = MaxDirectory
	}
	db := s.db.Read(ctx).Model(&Mailbox{}).
		Joins("JOIN domains ON domains.id = mailboxes.domain_id").
		Where("mailboxes.domain_id = ? AND mailboxes.active AND domains.active", sc.DomainID)
	if search = strings.TrimSpace(search); search != "" {
		pat := database.Contains(search)
		db = db.Where("(mailboxes.local_part LIKE ? ESCAPE '\\' OR LOWER(mailboxes.full_name) LIKE ? ESCAPE '\\')", pat, pat)
	}
	var rows []struct {
		LocalPart string
		FullName  string
		Domain    string
	}
	err := db.Select("mailboxes.local_part, mailboxes.full_name, domains.name AS domain").
		Order("mailboxes.local_part").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list directory: %w", err)
	}
	out := make([]DirectoryEntry, len(rows))
	for i, r := range rows {
		out[i] = DirectoryEntry{Address: r.LocalPart + "@" + r.Domain, Name: r.FullName}
	}
	return out, nil
}
