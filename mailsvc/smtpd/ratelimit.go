package smtpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
)

// RateLimits are the submission limits (delivery.RateLimits, which remote
// forwards count against too): recipients per sliding hour and day, per
// mailbox and per domain. Zero fields take the defaults; a negative one
// means no limit. Give delivery.Options.Limits the same values.
type RateLimits delivery.RateLimits

func (l *RateLimits) defaults() { *l = RateLimits(delivery.RateLimits(*l).WithDefaults()) }

// limiter is delivery's send limiter (table submission_log) over this
// server's limits; it keeps no state of its own.
func (s *Server) limiter() *delivery.Limiter {
	return delivery.NewLimiter(s.db, delivery.RateLimits(s.cfg.Limits), s.log, s.now)
}

// checkRate refuses a recipient that would take the login's mailbox or
// domain past a limit: 451 4.7.1, a warning in the log, and once an hour
// per mailbox an entry in the audit log, which the domain's postmaster and
// the administrators see in the panel. pending counts this transaction's
// recipients so far, this one included.
func (s *Server) checkRate(ctx context.Context, log *slog.Logger, login *tenants.Login, remote string, pending int64) error {
	err := s.limiter().Check(ctx, log, delivery.LoginAccount(login), remote, pending)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, delivery.ErrRateLimited):
		return errRateLimited
	}
	log.Warn("read submission counts", "err", err)
	return errTempFailure
}

// recordSubmission counts an accepted submission, in the delivery's
// transaction, and forgets the mailbox's rows older than a day. The
// limits are checked again there (delivery.Limiter.Reserve), so that
// parallel connections can't pass them together; past one, the error is
// also the 451 4.7.1 reply, for webmail, which reads the enhanced code.
func (s *Server) recordSubmission(tx *gorm.DB, login *tenants.Login, rcpts int64) error {
	err := s.limiter().Reserve(tx, delivery.LoginAccount(login), rcpts)
	if errors.Is(err, delivery.ErrRateLimited) {
		return fmt.Errorf("%w: %w", errRateLimited, err)
	}
	return err
}
