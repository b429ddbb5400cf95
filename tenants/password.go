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
	keys := s.throttleKeys(accountKey(a.String()), addressKey(sc.RemoteAddr))
	counts, locked, err := s.reserve(ctx, keys)
	if err != nil {
		return err
	}
	if locked {
		return invalid("current_password", "too many failed attempts; try again later")
	}
	ok, _, err := s.verify(ctx, &Login{Mailbox: m, Address: a}, m.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		delay, err := s.settleFailure(ctx, keys, counts)
		if err != nil {
			return err
		}
		s.sleep(ctx, delay)
		return invalid("current_password", "this is not your current password")
	}
	if err := s.settleSuccess(ctx, keys); err != nil {
		return err
	}
	if current == next {
		return invalid("password", "the new password is the same as the current one")
	}
	_, err = s.UpdateMailbox(ctx, sc, a, MailboxUpdate{Password: &next})
	return err
}
