package tenants

import (
	"context"
)

// DirectoryEntry is one address of a domain's directory: a mailbox's own
// address and its full name.
type DirectoryEntry struct {
	Address string // ASCII form, local@domain
	Name    string
}

// MaxDirectory bounds one directory answer.
const MaxDirectory = 200

// Directory lists the local directory (directoryPeople) of the scope's own domain whose
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
	people, err := s.directoryPeople(ctx, sc.DomainID, search, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DirectoryEntry, len(people))
	for i, p := range people {
		out[i] = DirectoryEntry{Address: p.Address, Name: p.Name}
		if p.Name == p.Address {
			out[i].Name = ""
		}
	}
	return out, nil
}
