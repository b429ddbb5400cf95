package tenants

import (
	"context"
	"fmt"

	"github.com/postdesk/postdesk/tenants/address"
)

// AuditRecord is an audit entry with its domain's name ("" for system-wide
// changes and removed domains).
type AuditRecord struct {
	AuditEntry
	Domain string
}

// AuditQuery filters and pages the audit log.
type AuditQuery struct {
	Domain address.Domain // empty: everything the scope reaches
	Limit  int
	Offset int
}

// AuditRecords lists recorded changes, newest first, with the total for
// paging: everything for administrators, the own domain's entries for a
// postmaster.
func (s *Service) AuditRecords(ctx context.Context, sc Scope, q AuditQuery) ([]AuditRecord, int64, error) {
	if sc.Role == RoleUser || !sc.valid() {
		return nil, 0, ErrForbidden
	}
	db := s.db.Read(ctx).Table("audit_log").Scopes(sc.domains("audit_log.domain_id")).
		Joins("LEFT JOIN domains ON domains.id = audit_log.domain_id")
	if q.Domain != "" {
		d, err := s.Domain(ctx, sc, q.Domain)
		if err != nil {
			return nil, 0, err
		}
		db = db.Where("audit_log.domain_id = ?", d.ID)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count audit log: %w", err)
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var out []AuditRecord
	err := db.Select("audit_log.*, COALESCE(domains.name, '') AS domain").
		Order("audit_log.id DESC").Limit(q.Limit).Offset(q.Offset).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("read audit log: %w", err)
	}
	return out, total, nil
}
