package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/mailsvc/dsn"
)

// What an SRS address takes. It exists so that a remote forward's failure
// finds its way back to the original sender (RFC 5321 3.6.3), and it
// makes this server send mail to an outside address for whoever writes to
// it: so it takes only what a bounce is, small, a few times, and only
// while the forwarding mailbox may still forward and send.
//
//   - The null sender (RFC 5321 4.5.5; Deliverer.Resolve), an address of
//     ours not older than srsMaxAge days, whose mailbox (encoded in it,
//     under the HMAC) still exists, is active, forwards to another server
//     and may send (tenants.BounceForwarder); else ErrSRSRefused at RCPT.
//   - At most MaxSRSBounceSize octets (ErrBounceTooBig, at RCPT for a
//     declared SIZE, else after DATA). A DSN returns the failed message
//     whole or its header only; 128 KiB holds a report with a header and
//     the start of a message, and a bigger "bounce" is refused: its sender
//     keeps it.
//   - A delivery report, one of two shapes (isBounce; else ErrNotABounce):
//     a DSN, multipart/report; report-type=delivery-status (RFC 6522, which
//     obsoletes RFC 3462) with a message/delivery-status part of at least
//     one recipient block (RFC 3464 2.1; message/global-delivery-status of
//     RFC 6533 too), as every current MTA writes; or the classic bounce of
//     older MTAs (qmail's "failure notice", Exim's "Mail delivery failed",
//     sendmail's "Returned mail"): plain text only, From a MAILER-DAEMON or
//     postmaster, with a Subject that names a delivery failure or delay.
//     The classic shape can be forged, as any of this; what bounds a forged
//     one is the rest: text only, small, to an original sender who wrote to
//     the mailbox in the last days, and counted.
//   - Counted: each one against the forwarding mailbox's (and its
//     domain's) send limits, as the forward was (Limiter.ReserveBounce),
//     and at most SRSBouncesPerDay per SRS address a day (ErrRateLimited,
//     temporary: a real bounce is retried by its sender).
//
// These apply to bounces received over SMTP. The queue's own DSNs about a
// forward it could not deliver (DeliverLocal, KindDSN) pass the mailbox
// check only: they are Postdesk's own reports, one per forwarded message
// at most, which counted already.

// MaxSRSBounceSize bounds a bounce to an SRS address, our Received header
// included.
const MaxSRSBounceSize = 128 << 10

// SRSBouncesPerDay bounds the bounces one SRS address returns in 24 hours.
// An address stands for one original sender, forwarding mailbox and day:
// a handful covers that sender's messages of a day failing at the forward
// target (a full mailbox there).
const SRSBouncesPerDay = 5

var (
	// ErrSRSRefused: a valid SRS address of ours that returns no bounce
	// any more: expired, or its mailbox gone, disabled, expired, no longer
	// forwarding or sending. It wraps tenants.ErrDisabled, so that the
	// queue gives up at once (DeliverLocal).
	ErrSRSRefused = errors.New("SRS address expired or no longer valid")
	// ErrNotABounce: a message to an SRS address that is not a delivery
	// report.
	ErrNotABounce = errors.New("only delivery reports are taken for an SRS address")
	// ErrBounceTooBig: a bounce over MaxSRSBounceSize.
	ErrBounceTooBig = errors.New("bounce too big for an SRS address")
)

// CheckSRSBounce checks an SRS recipient at RCPT, before the message: a
// declared size (0: none) over MaxSRSBounceSize gives ErrBounceTooBig,
// the forwarding mailbox's limits or the address's daily cap an error
// wrapping ErrRateLimited. Delivery checks both again in its transaction.
func (d *Deliverer) CheckSRSBounce(ctx context.Context, r Recipient, size int64) error {
	if !r.SRSBounce {
		return nil
	}
	if size > MaxSRSBounceSize {
		return fmt.Errorf("%d octets: %w", size, ErrBounceTooBig)
	}
	if d.limiter == nil {
		return nil
	}
	log := d.log.With("srs", r.SRSAddress, "mailbox", r.SRSForwarder.Address.String())
	return d.limiter.CheckBounce(ctx, log, srsAccount(r), r.SRSAddress)
}

func srsAccount(r Recipient) RateAccount {
	f := r.SRSForwarder
	return RateAccount{MailboxID: f.MailboxID, DomainID: f.DomainID, Address: f.Address}
}

// srsBounces returns the recipients of m that the SRS rules above count,
// after checking its size and shape: those reached through an SRS address,
// in a message received over SMTP.
func srsBounces(m *Message) ([]Recipient, error) {
	if m.Kind != "" {
		return nil, nil
	}
	var bs []Recipient
	for _, r := range m.Rcpts {
		if r.SRSBounce {
			bs = append(bs, r)
		}
	}
	if len(bs) == 0 {
		return nil, nil
	}
	if size := m.Blob.Size(); size > MaxSRSBounceSize {
		return nil, fmt.Errorf("%d octets: %w", size, ErrBounceTooBig)
	}
	if why := isBounce(m.Header, io.NewSectionReader(m.Blob.ReaderAt(), 0, m.Blob.Size())); why != "" {
		return nil, fmt.Errorf("%s: %w", why, ErrNotABounce)
	}
	return bs, nil
}

// isBounce says why a message (at most MaxSRSBounceSize octets) is not a
// delivery report of one of the two shapes above, or "" when it is one.
func isBounce(h *Header, msg io.Reader) string {
	mt, params, err := mime.ParseMediaType(h.Fields.Get("Content-Type"))
	if h.Fields.Get("Content-Type") == "" {
		mt, err = "text/plain", nil // RFC 2045 5.2
	}
	if err != nil {
		return "unparsable Content-Type"
	}
	switch {
	case mt == "multipart/report":
		if !strings.EqualFold(params["report-type"], "delivery-status") {
			return "a report, not of delivery status"
		}
		rep, err := dsn.Parse(msg)
		if err != nil {
			return "not a delivery status notification"
		}
		if len(rep.Recipients) == 0 {
			return "a delivery status notification without recipients"
		}
		return ""
	case mt != "text/plain":
		return "neither a delivery report nor plain text"
	}
	mh := mail.Header{Header: message.Header{Header: h.Fields}}
	from, err := mh.AddressList("From")
	if err != nil || len(from) != 1 {
		return "a plain text message without one From"
	}
	local, _, _ := strings.Cut(strings.ToLower(from[0].Address), "@")
	if local != "mailer-daemon" && local != "postmaster" {
		return "a plain text message not from a MAILER-DAEMON or postmaster"
	}
	subject, _ := mh.Text("Subject")
	subject = strings.ToLower(subject)
	for _, w := range []string{"fail", "undeliver", "not deliver", "non-deliver", "nondeliver", "returned", "delivery status", "delay", "bounce", "rejected"} {
		if strings.Contains(subject, w) {
			return ""
		}
	}
	return "a plain text message whose Subject names no delivery failure"
}
