package tenants

import (
	"context"
	"fmt"
)

// DomainByID returns a domain by its id, within the scope; the outbound
// queue uses it to find the postmaster of a message's sending domain.
func (s *Service) DomainByID(ctx context.Context, sc Scope, id int64) (*Domain, error) {
	var d Domain
	err := s.db.Read(ctx).Scopes(sc.domains("id")).Where("id = ?", id).Take(&d).Error
	if notFound(err) {
		return nil, fmt.Errorf("domain %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("look up domain %d: %w", id, err)
	}
	return &d, nil
}
