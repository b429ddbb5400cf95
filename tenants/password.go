package tenants

import (
	"context"
)

// ChangeOwnPassword sets a user's password after checking their current
// one: the one password for panel, webmail, SMTP, IMAP and POP3. A wrong
// current password counts as a failed login in the shared throttle. sc is
// the user's own scope (Login.UserScope).
func (s *Service) ChangeOwnPassword(ctx context.Context, sc Scope, current, next string) error {
	if sc.Role != RoleUser {
		return ErrForbidden
	}
	m, err := s.MailboxByID(ctx, sc, sc.MailboxID)
	if err != nil {
		return err
	}
	a, err := s.MailboxAddress(ctx, m)
	if err != nil {
		return err
	}
	if locked, err := s.locked(ctx, accountKey(a.String())); err != nil {
		return err
	} else if locked {
		return invalid("current_password", "too many failed attempts; try again later")
	}
	ok, _, verr := s.hasher.Verify(m.PasswordHash, current)
	if verr != nil || !ok {
		delay, err := s.recordFailure(ctx, accountKey(a.String()), addressKey(sc.RemoteAddr))
		if err != nil {
			return err
		}
		s.sleep(ctx, delay)
		return invalid("current_password", "this is not your current password")
	}
	if current == next {
		return invalid("password", "the new password is the same as the current one")
	}
	_, err = s.UpdateMailbox(ctx, sc, a, MailboxUpdate{Password: &next})
	return err
}
