package tenants

import (
	"fmt"

	"gorm.io/gorm"
)

// Role is what an actor may reach.
type Role int

const (
	// RoleSystem is the CLI and the servers' own work: everything.
	RoleSystem Role = iota + 1
	// RoleAdmin is a system administrator: every domain.
	RoleAdmin
	// RolePostmaster manages one domain.
	RolePostmaster
	// RoleUser changes their own mailbox's settings.
	RoleUser
)

// Scope is who acts and what they may reach. Handlers build it from the
// login, never from a form field; every tenants method takes one and applies
// it here, in one place.
type Scope struct {
	Role       Role
	Actor      string // name for the audit log: "admin", "john@example.test", "cli"
	RemoteAddr string // for the audit log
	DomainID   int64  // the one domain a postmaster or user reaches
	MailboxID  int64  // the one mailbox a user reaches
}

// SystemScope is for the CLI and the servers' own lookups.
func SystemScope(actor string) Scope { return Scope{Role: RoleSystem, Actor: actor} }

// AllDomains reports whether the scope reaches every domain.
func (s Scope) AllDomains() bool { return s.Role == RoleSystem || s.Role == RoleAdmin }

// valid reports whether the scope was built properly; a zero Scope reaches
// nothing.
func (s Scope) valid() bool {
	switch s.Role {
	case RoleSystem, RoleAdmin:
		return true
	case RolePostmaster:
		return s.DomainID != 0
	case RoleUser:
		return s.DomainID != 0 && s.MailboxID != 0
	}
	return false
}

// domains restricts a query on a table with a domain column to what the
// scope reaches.
func (s Scope) domains(column string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		switch {
		case !s.valid():
			return db.Where("1 = 0")
		case s.AllDomains():
			return db
		default:
			return db.Where(column+" = ?", s.DomainID)
		}
	}
}

// mailboxes restricts a query on mailbox rows to what the scope reaches: a
// user reaches their own mailbox only.
func (s Scope) mailboxes(idColumn, domainColumn string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		db = s.domains(domainColumn)(db)
		if s.Role == RoleUser {
			db = db.Where(idColumn+" = ?", s.MailboxID)
		}
		return db
	}
}

// mayManageDomain reports whether the scope may change domain-wide things
// (mailboxes, aliases, catchrest) in domain id.
func (s Scope) mayManageDomain(domainID int64) bool {
	switch s.Role {
	case RoleSystem, RoleAdmin:
		return true
	case RolePostmaster:
		return s.DomainID == domainID
	}
	return false
}

// DomainRows restricts rows of another package's table that carry a domain
// column (the outbound queue's, say) to what a managing scope reaches:
// every row for the system and administrators, the own domain's for a
// postmaster. A user's scope manages no domain: ErrForbidden.
func (s Scope) DomainRows(column string) (func(*gorm.DB) *gorm.DB, error) {
	if !s.valid() || s.Role == RoleUser {
		return nil, ErrForbidden
	}
	return s.domains(column), nil
}

// Narrow returns the scope with which sc acts on one domain as that
// domain's postmaster would: an administrator's (or the system's) scope
// narrowed to the domain, a postmaster's own scope for their own domain.
// Narrowing never widens: any other pair is ErrForbidden.
func (s Scope) Narrow(domainID int64) (Scope, error) {
	if domainID == 0 || !s.mayManageDomain(domainID) || !s.valid() {
		return Scope{}, fmt.Errorf("narrow scope to domain %d: %w", domainID, ErrForbidden)
	}
	n := s
	n.Role, n.DomainID, n.MailboxID = RolePostmaster, domainID, 0
	return n, nil
}
