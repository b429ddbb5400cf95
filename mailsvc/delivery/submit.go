package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// ErrNoRecipients: a submission without recipients; Submit's other
// errors are the sender rules' (sender.go) and Deliver's.
var ErrNoRecipients = errors.New("no recipients")

// RecipientError is a submission refused for one recipient: Err wraps
// tenants.ErrNoSuchUser, tenants.ErrDisabled, tenants.ErrNotHosted (an
// address literal, or relaying), ErrMailboxFull, ErrTooBigForMailbox or
// ErrNoQueue.
type RecipientError struct {
	Rcpt address.Address
	Err  error
}

func (e *RecipientError) Error() string { return fmt.Sprintf("recipient %s: %v", e.Rcpt, e.Err) }
func (e *RecipientError) Unwrap() error { return e.Err }

// Submission is a message an authenticated user sends through one of
// Postdesk's own programs (webmail) rather than over SMTP.
type Submission struct {
	Login  *tenants.Login // a mailbox's login, checked at sign-in
	Remote string         // the client's address, for logs and the audit log
	From   address.Address
	Rcpts  []address.Address
	// Body is the whole message, header included, without trace
	// headers; Received is put on top of it.
	Body     io.Reader
	Received string
	// MaxSize bounds Body, as SMTP's SIZE does; 0: no bound.
	MaxSize int64
}

// Submit sends a message as SMTP submission does after AUTH: the mailbox
// may send, the envelope sender and the author and sender fields
// (SendAs.Originators) are the login's own, every recipient passes
// CheckRecipient (SMTP's RCPT), the send limits allow them all; then the
// message is delivered locally and queued for remote recipients in one
// transaction that also counts it for the send limits.
func (d *Deliverer) Submit(ctx context.Context, s *Submission) (*Result, error) {
	login := s.Login
	if login == nil || login.Mailbox == nil {
		return nil, errors.New("submit: no mailbox login")
	}
	sendAs, err := d.SenderAddresses(ctx, login, s.Remote)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	if err := sendAs.Envelope(address.Path{Address: s.From}); err != nil {
		return nil, err
	}
	if len(s.Rcpts) == 0 {
		return nil, ErrNoRecipients
	}

	var buf bytes.Buffer
	buf.WriteString(s.Received)
	body := s.Body
	if s.MaxSize > 0 {
		body = io.LimitReader(body, s.MaxSize+1)
	}
	n, err := io.Copy(&buf, body)
	if err != nil {
		return nil, fmt.Errorf("submit: read message: %w", err)
	}
	if s.MaxSize > 0 && n > s.MaxSize {
		return nil, fmt.Errorf("submit: message over %d bytes: %w", s.MaxSize, store.ErrTooBig)
	}
	size := int64(buf.Len())
	h := ParseHeader(bytes.NewReader(buf.Bytes()), size)
	if err := sendAs.Originators(h); err != nil {
		return nil, err
	}

	var rcpts []Recipient
	for _, a := range s.Rcpts {
		r, err := d.CheckRecipient(ctx, RcptCheck{From: address.Path{Address: s.From}, To: address.Path{Address: a}, Size: size, Login: login, Remote: s.Remote})
		switch {
		case errors.Is(err, tenants.ErrNotHosted), errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled),
			errors.Is(err, ErrMailboxFull), errors.Is(err, ErrTooBigForMailbox), errors.Is(err, ErrNoQueue):
			return nil, &RecipientError{Rcpt: a, Err: err}
		case err != nil:
			return nil, fmt.Errorf("submit: check recipient %s: %w", a, err)
		}
		rcpts = append(rcpts, r)
	}
	if err := d.CheckSendRate(ctx, login, s.Remote, int64(len(rcpts))); err != nil {
		return nil, err
	}

	b, err := d.newBlob(ctx, &buf, size)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	m := &Message{From: address.Path{Address: s.From}, Blob: b, OwnReceived: strings.Count(s.Received, "Received:"), Rcpts: rcpts, Header: h,
		Kind: KindSubmission, MailboxID: login.Mailbox.ID, DomainID: login.Mailbox.DomainID, Login: login}
	res, err := d.Deliver(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	return res, nil
}
