package webmail

import "github.com/postdesk/postdesk/tenants/address"

// Refusal is why a submission was refused, as far as the user can act on
// it. The panel does not import the mail services: cmd/postdesk maps
// delivery's errors onto these, and the words for the user are here.
type Refusal int

// The refusals of a submission.
const (
	RefusedUnavailable   Refusal = iota + 1 // the server has no submission path
	RefusedMayNotSend                       // the mailbox may not send
	RefusedNotYourSender                    // a sender that is not the login's
	RefusedNoRecipients
	RefusedLoop      // refused as a mail loop
	RefusedRateLimit // a send limit reached
	// Refusals of one recipient (SubmitError.Rcpt).
	RefusedNoMailbox     // no such local mailbox
	RefusedDisabled      // the recipient takes no mail
	RefusedMailboxFull   // the recipient's mailbox is full
	RefusedTooBigForRcpt // too big for the recipient's mailbox
	RefusedNoQueue       // remote, and no outbound queue
	RefusedUnreachable   // any other refusal of the recipient
)

// SubmitError is a submission refused for a reason the user can act on:
// a sender not theirs, a recipient refused, a send limit reached.
type SubmitError struct {
	Refusal Refusal
	Rcpt    address.Address // the recipient refused, for a recipient's refusal
	Err     error
}

func (e *SubmitError) Error() string { return e.Message() }
func (e *SubmitError) Unwrap() error { return e.Err }

// Message is the refusal in words, for the user.
func (e *SubmitError) Message() string {
	a := e.Rcpt.Unicode()
	switch e.Refusal {
	case RefusedUnavailable:
		return "Sending is not available on this server."
	case RefusedMayNotSend:
		return "This mailbox may not send mail; ask your postmaster."
	case RefusedNotYourSender:
		return "You can send only as one of your own addresses."
	case RefusedNoRecipients:
		return "Give at least one recipient."
	case RefusedLoop:
		return "The message was refused as a mail loop."
	case RefusedRateLimit:
		return "You have sent as much mail as this server allows for now; try again later."
	case RefusedNoMailbox:
		return "There is no mailbox " + a + "."
	case RefusedDisabled:
		return a + " does not take mail."
	case RefusedMailboxFull:
		return "The mailbox of " + a + " is full."
	case RefusedTooBigForRcpt:
		return "The message is too big for the mailbox of " + a + "."
	case RefusedNoQueue:
		return "Mail to other servers can't be sent right now; try again later."
	case RefusedUnreachable:
		return a + " can't be reached from here."
	}
	return "The message was not sent."
}
