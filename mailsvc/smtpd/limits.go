package smtpd

import (
	"context"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
)

// The submission rate limits for submissions that do not come over SMTP
// (webmail, through delivery.Deliverer.Submit), so that every submission
// path counts against the same limits in the same table.
var _ delivery.RateLimiter = (*Server)(nil)

// CheckRate refuses a submission of rcpts recipients that would pass the
// login's limits, with the reply SMTP would give (451 4.7.1) and the same
// log and audit entries.
func (s *Server) CheckRate(ctx context.Context, login *tenants.Login, remote string, rcpts int64) error {
	return s.checkRate(ctx, s.log.With("login", login.Address.String(), "remote", remote), login, remote, rcpts)
}

// RecordSubmission counts an accepted submission in the delivery's
// transaction.
func (s *Server) RecordSubmission(tx *gorm.DB, login *tenants.Login, rcpts int64) error {
	return s.recordSubmission(tx, login, rcpts)
}
