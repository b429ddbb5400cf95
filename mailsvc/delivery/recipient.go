package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// RcptCheck is an envelope recipient to check, with what it is checked
// against: the sender, the declared size and, for a submission, the login.
type RcptCheck struct {
	From address.Path // the envelope sender
	To   address.Path // the recipient, parsed
	// Raw, when set instead of To, is a recipient whose local part is too
	// long to parse (address.ErrLocalpartTooLong): only an SRS bounce of
	// ours may be one (ResolveSRS).
	Raw  string
	Size int64 // declared size; 0: unknown
	// Login is a submission's login (SMTP AUTH, webmail); nil for mail
	// received at the MX, which is relayed nowhere.
	Login  *tenants.Login
	Remote string // the client's address, for logs and the audit log
	// Pending is the transaction's recipients so far, this one included,
	// counted against the login's send limits; 0 leaves that check to the
	// caller (Submit checks a message's recipients together).
	Pending int64
}

// CheckRecipient resolves and checks one envelope recipient, the one set
// of checks of SMTP's RCPT (mailsvc/smtpd) and of Submit, in this order:
// it resolves (Resolve, ResolveSRS); a remote recipient is relayed only
// for a submission (else an error wrapping tenants.ErrNotHosted) and only
// with an outbound queue (ErrNoQueue); a local one needs room in its
// mailbox (CheckQuota); a submission stays within the login's send limits
// (ErrRateLimited); a bounce through an SRS address is small and within its
// forwarding mailbox's limits (CheckSRSBounce: ErrBounceTooBig,
// ErrRateLimited). Refusals wrap those errors or tenants.ErrNoSuchUser,
// tenants.ErrDisabled, ErrSRSRefused (which wraps tenants.ErrDisabled too)
// and address.ErrLocalpartTooLong; any other error is trouble here. With
// ErrRateLimited the resolved recipient is returned too: its SRSBounce
// tells a bounce's limit from the login's.
func (d *Deliverer) CheckRecipient(ctx context.Context, c RcptCheck) (Recipient, error) {
	var r Recipient
	if c.Raw != "" {
		sr, ok, err := d.ResolveSRS(ctx, c.From, c.Raw)
		if err != nil {
			return Recipient{}, fmt.Errorf("resolve SRS recipient: %w", err)
		}
		if !ok {
			return Recipient{}, fmt.Errorf("%s: %w", c.Raw, address.ErrLocalpartTooLong)
		}
		r = sr
	} else {
		var err error
		r, err = d.Resolve(ctx, c.From, c.To)
		switch {
		case errors.Is(err, tenants.ErrNotHosted) && c.Login != nil && !r.Remote.IsZero():
			// A submission's remote recipient, for the queue.
		case err != nil:
			return Recipient{}, err
		}
	}
	switch {
	case r.List != nil:
		if err := d.checkList(ctx, r, c.From); err != nil {
			return Recipient{}, err
		}
	case r.Plan != nil:
		if err := d.CheckQuota(ctx, r.Plan, c.Size); err != nil {
			return Recipient{}, err
		}
	case !d.CanQueue():
		return Recipient{}, fmt.Errorf("%s: %w", r.Remote, ErrNoQueue)
	}
	if c.Login != nil && c.Pending > 0 {
		if err := d.CheckSendRate(ctx, c.Login, c.Remote, c.Pending); err != nil {
			return r, err
		}
	}
	if err := d.CheckSRSBounce(ctx, r, c.Size); err != nil {
		return r, err
	}
	return r, nil
}

// CheckSendRate refuses a submission of rcpts recipients (the
// transaction's so far) that would take the login's mailbox or domain
// past a send limit: an error wrapping ErrRateLimited, with the log and
// audit entries of Limiter.Check. The send is counted when it commits
// (Message.Login).
func (d *Deliverer) CheckSendRate(ctx context.Context, login *tenants.Login, remote string, rcpts int64) error {
	if d.limiter == nil {
		return nil
	}
	log := d.log.With("login", login.Address.String(), "remote", remote)
	return d.limiter.Check(ctx, log, LoginAccount(login), remote, rcpts)
}
