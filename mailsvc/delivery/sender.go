package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// The sender rules of submission, one place for SMTP AUTH (mailsvc/smtpd)
// and webmail (Submit): the mailbox may send, and the envelope sender and
// every From address are the login's own (RFC 6409 8.1 lets an MSA
// enforce this; it stops one user writing as another).
var (
	// ErrMayNotSend: the mailbox's send permission is off.
	ErrMayNotSend = errors.New("this mailbox may not send mail")
	// ErrNotYourSender: the envelope sender, or an address of the From
	// header, is not one of the login's own addresses.
	ErrNotYourSender = errors.New("not one of the sender's own addresses")
	// ErrNoFrom: a submitted message without a From address.
	ErrNoFrom = errors.New("message has no From address")
)

// SendAs is the set of addresses a login may send as: its mailbox's own
// address, aliases and alias-domain forms.
type SendAs map[address.Address]bool

// SenderAddresses returns what a mailbox login may send as; a mailbox
// whose send permission is off gets ErrMayNotSend.
func (d *Deliverer) SenderAddresses(ctx context.Context, login *tenants.Login, remote string) (SendAs, error) {
	if login == nil || login.Mailbox == nil {
		return nil, errors.New("not a mailbox login")
	}
	addrs, err := d.tenants.Addresses(ctx, login.UserScope(remote), login.Mailbox)
	if err != nil {
		return nil, fmt.Errorf("list the sender's addresses: %w", err)
	}
	s := make(SendAs, len(addrs))
	for _, a := range addrs {
		s[a] = true
	}
	if !login.Mailbox.MaySend {
		return s, ErrMayNotSend
	}
	return s, nil
}

// Envelope checks an envelope sender: never the null sender, always one
// of the login's addresses.
func (s SendAs) Envelope(p address.Path) error {
	if p.IsNull() || !s[p.Address] {
		return fmt.Errorf("envelope sender %s: %w", p.String(), ErrNotYourSender)
	}
	return nil
}

// FromHeader checks that a message's From addresses are all the login's.
func (s SendAs) FromHeader(h *Header) error {
	mh := mail.Header{Header: message.Header{Header: h.Fields}}
	list, err := mh.AddressList("From")
	if err != nil || len(list) == 0 {
		return ErrNoFrom
	}
	for _, a := range list {
		addr, err := address.ParseAddress(a.Address)
		if err != nil || !s[addr] {
			return fmt.Errorf("From %s: %w", a.Address, ErrNotYourSender)
		}
	}
	return nil
}
