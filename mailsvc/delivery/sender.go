package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// The sender rules of submission, one place for SMTP AUTH (mailsvc/smtpd)
// and webmail (Submit): the mailbox may send, and the envelope sender and
// every address that names the message's author or sender (From, Sender,
// and those of the newest resent block) are the login's own (RFC 6409 8.1
// lets an MSA enforce this; it stops one user writing as another).
var (
	// ErrMayNotSend: the mailbox's send permission is off.
	ErrMayNotSend = errors.New("this mailbox may not send mail")
	// ErrNotYourSender: the envelope sender, or an address of the From,
	// Sender, Resent-From or Resent-Sender header, is not one of the
	// login's own addresses.
	ErrNotYourSender = errors.New("not one of the sender's own addresses")
	// ErrNoFrom: a submitted message without a From address.
	ErrNoFrom = errors.New("message has no From address")
	// ErrHeaderUnread: a submitted message whose header does not read to
	// its end (a damaged line, or over 1 MiB), where a second From could
	// hide from this check but not from a recipient's mail program.
	ErrHeaderUnread = errors.New("message header malformed or too large")
	// ErrDuplicateField: a second From or Sender field (RFC 5322 3.6
	// allows one each), or a second Resent-From or Resent-Sender in the
	// newest resent block (one each per block, RFC 5322 3.6.6). Mail
	// programs show one of them, not always the one checked.
	ErrDuplicateField = errors.New("header field given more than once")
)

// FieldError is a sender rule broken by one header field: Err is
// ErrNoFrom, ErrNotYourSender or ErrDuplicateField; Field is the field's
// canonical name (never client input), Addr the address refused, if any.
type FieldError struct {
	Field string
	Addr  string
	Err   error
}

func (e *FieldError) Error() string {
	if e.Addr != "" {
		return fmt.Sprintf("%s %s: %v", e.Field, e.Addr, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

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

// Originators checks the header fields that name a message's author and
// sender, as a recipient's mail program shows them (RFC 5322 3.6.2,
// 3.6.6): exactly one From, all of whose addresses are the login's; at
// most one Sender, the login's; and in the newest resent block at most one
// Resent-From and one Resent-Sender, all of their addresses the login's.
// A header that does not read to its end is refused (ErrHeaderUnread).
// Older resent blocks belong to whoever resent the message before and are
// not checked; From is checked in a resent message too, since mail programs
// show it first.
func (s SendAs) Originators(h *Header) error {
	if !h.Complete {
		return ErrHeaderUnread
	}
	mh := mail.Header{Header: message.Header{Header: h.Fields}}
	switch n := len(h.Fields.Values("From")); {
	case n == 0:
		return &FieldError{Field: "From", Err: ErrNoFrom}
	case n > 1:
		return &FieldError{Field: "From", Err: ErrDuplicateField}
	}
	if list, err := mh.AddressList("From"); err != nil || len(list) == 0 {
		return &FieldError{Field: "From", Err: ErrNoFrom}
	}
	if err := s.fieldAddresses(mh, "From"); err != nil {
		return err
	}
	if len(h.Fields.Values("Sender")) > 1 {
		return &FieldError{Field: "Sender", Err: ErrDuplicateField}
	}
	if err := s.fieldAddresses(mh, "Sender"); err != nil {
		return err
	}
	block, err := newestResentBlock(h)
	if err != nil {
		return err
	}
	for _, f := range block {
		if err := s.addresses(f.key, f.value); err != nil {
			return err
		}
	}
	return nil
}

// fieldAddresses checks every address of the (single) field key, if there
// is one: a field that does not parse can't be shown to be the login's.
func (s SendAs) fieldAddresses(mh mail.Header, key string) error {
	v := mh.Get(key)
	if v == "" && !mh.Has(key) {
		return nil
	}
	return s.addresses(key, v)
}

// addresses checks the address list v of field key.
func (s SendAs) addresses(key, v string) error {
	var h mail.Header
	h.Set(key, v)
	list, err := h.AddressList(key)
	if err != nil || len(list) == 0 {
		return &FieldError{Field: key, Err: ErrNotYourSender}
	}
	for _, a := range list {
		addr, err := address.ParseAddress(a.Address)
		if err != nil || !s[addr] {
			return &FieldError{Field: key, Addr: a.Address, Err: ErrNotYourSender}
		}
	}
	return nil
}

type headerField struct{ key, value string }

// newestResentBlock returns the Resent-From and Resent-Sender fields of the
// newest resent block: from the first Resent- field, top down, to the first
// trace field (Received, Return-Path) after it. Each resend passes an MTA,
// which puts its trace fields above the block (RFC 5322 3.6.6, 3.6.7), so
// older blocks lie below one; a field of another kind inside the block is
// passed over rather than taken as its end, so that it can't hide a second
// Resent-From, which is refused.
func newestResentBlock(h *Header) ([]headerField, error) {
	var block []headerField
	seen := map[string]bool{}
	started := false
	for fs := h.Fields.Fields(); fs.Next(); {
		k := fs.Key()
		switch {
		case strings.HasPrefix(k, "Resent-"):
			started = true
		case !started:
			continue
		case k == "Received" || k == "Return-Path":
			return block, nil
		default:
			continue
		}
		if k != "Resent-From" && k != "Resent-Sender" {
			continue
		}
		if seen[k] {
			return nil, &FieldError{Field: k, Err: ErrDuplicateField}
		}
		seen[k] = true
		block = append(block, headerField{k, fs.Value()})
	}
	return block, nil
}
