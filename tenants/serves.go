package tenants

import (
	"context"
	"errors"

	"github.com/postdesk/postdesk/tenants/address"
)

// ServesDomain reports whether mail for d is ours to take: the domain, or
// the domain it is an alias of, exists and is active. It is a system-scope
// entry point for answers to strangers (client set-up), which say nothing
// of a domain we do not serve.
func (s *Service) ServesDomain(ctx context.Context, d address.Domain) (bool, error) {
	db := s.db.Read(ctx)
	dom, err := s.domainTx(db, SystemScope(""), d)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !dom.Active {
		return false, nil
	}
	if dom.AliasOfID != nil {
		primary, err := s.primaryDomain(db, dom)
		if err != nil {
			return false, err
		}
		return primary.Active, nil
	}
	return true, nil
}
