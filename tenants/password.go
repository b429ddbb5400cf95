package tenants

import (
	"context"
)

// ChangeOwnPassword sets a user's password after checking their current
// one: the one password for panel, webmail, SMTP, IMAP and POP3. A wrong
// current password counts as a failed login in the shared throttle. sc is
// the user's own scope (Login.UserScope). Like any password change it
// moves the credentials version on, ending every panel session of the
// mailbox; it returns the changed mailbox, with which the caller may sign
// the current browser in again.
func (s *Service) ChangeOwnPassword(ctx context.Context, sc Scope, current, next string) (*Mailbox, error) {
	if sc.Role != RoleUser {
		return nil, ErrForbidden
	}
	m, err := s.MailboxByID(ctx, sc, sc.MailboxID)
	if err != nil {
		return nil, err
	}
	a, err := s.MailboxAddress(ctx, m)
	if err != nil {
		return nil, err
	}
	reason, _, err := s.throttledCheck(ctx, accountKey(a.String()), sc.RemoteAddr, &Login{Mailbox: m, Address: a}, m.PasswordHash, current, nil)
	switch {
	case err != nil:
		return nil, err
	case reason == Locked:
		return nil, invalid("current_password", "too many failed attempts; try again later")
	case reason != 0:
		return nil, invalid("current_password", "this is not your current password")
	}
	if current == next {
		return nil, invalid("password", "the new password is the same as the current one")
	}
	return s.UpdateMailbox(ctx, sc, a, MailboxUpdate{Password: &next})
}
