package tenants

import (
	"context"

	"github.com/postdesk/postdesk/database"
	"gorm.io/gorm"
)

// RecordAudit writes one audit log entry for a change made outside
// tenants (the outbound queue's Delivery Options, routes and queued
// messages): who (sc.Actor), from where (sc.RemoteAddr), when (now), the
// domain it concerns (nil: system-wide) and what. detail must hold no
// secret.
func (s *Service) RecordAudit(ctx context.Context, sc Scope, domainID *int64, action, detail string) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		return s.RecordAuditTx(database.TxOf(tx), sc, domainID, action, detail)
	})
}

// RecordAuditTx is RecordAudit inside tx, the transaction of the change,
// so that the change and its entry are written together or not at all.
// tx must be a transaction on this Service's database.
func (s *Service) RecordAuditTx(t database.Tx, sc Scope, domainID *int64, action, detail string) error {
	if domainID != nil && *domainID == 0 {
		domainID = nil
	}
	return s.audit(t.Gorm(), sc, domainID, action, "%s", detail)
}
