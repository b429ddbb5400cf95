package queue

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/address"
)

// newRcpt is a recipient about to be queued.
type newRcpt struct {
	addr   string
	domain string
	local  bool
	notify bool
}

// EnqueueTx queues e for its remote recipients in tx, the transaction of
// store.Delivery.Extra, so that the message is queued exactly when the
// delivery commits. When an archive mailbox is set, a copy for it is
// queued with the message. Call Kick after the commit.
func (q *Queue) EnqueueTx(tx *gorm.DB, e Envelope) error {
	if len(e.Rcpts) == 0 {
		return errors.New("enqueue: no recipients")
	}
	rcpts := make([]newRcpt, 0, len(e.Rcpts)+1)
	for _, r := range e.Rcpts {
		r = strings.TrimSpace(r)
		d, err := rcptDomain(r)
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		rcpts = append(rcpts, newRcpt{addr: r, domain: d, notify: true})
	}
	st, err := loadSettings(tx)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	if st.ArchiveAddress != "" {
		a, err := address.ParseAddress(st.ArchiveAddress)
		if err != nil {
			return fmt.Errorf("enqueue: archive address: %w", err)
		}
		// The archive gets a copy but never causes a bounce.
		rcpts = append(rcpts, newRcpt{addr: a.String(), domain: a.Domain.String(), local: true})
	}
	_, err = q.insertTx(tx, e, rcpts)
	return err
}

// insertTx writes a message's rows; its recipients are due at once.
func (q *Queue) insertTx(tx *gorm.DB, e Envelope, rcpts []newRcpt) (int64, error) {
	if e.BlobKey == "" {
		return 0, errors.New("enqueue: no blob")
	}
	if !validKind(e.Kind) {
		return 0, fmt.Errorf("enqueue: unknown kind %q", e.Kind)
	}
	if _, err := address.ParseReversePath(e.From); err != nil {
		return 0, fmt.Errorf("enqueue: sender: %w", err)
	}
	if strings.ContainsAny(e.Prefix, "\x00") {
		return 0, errors.New("enqueue: NUL in prefix")
	}
	var sizes []int64
	if err := tx.Model(&store.BlobRow{}).Where("blob_key = ?", e.BlobKey).Pluck("size", &sizes).Error; err != nil {
		return 0, fmt.Errorf("enqueue: read blob: %w", err)
	}
	if len(sizes) == 0 {
		return 0, fmt.Errorf("enqueue: blob %s has no row", e.BlobKey)
	}
	now := q.clock()
	m := messageRow{
		BlobKey: e.BlobKey, Prefix: e.Prefix, MailFrom: e.From, MailboxID: e.MailboxID, DomainID: e.DomainID,
		Kind: e.Kind, Size: sizes[0] + int64(len(e.Prefix)), CreatedAt: now, NextAttemptAt: now,
	}
	if err := tx.Create(&m).Error; err != nil {
		return 0, fmt.Errorf("enqueue: insert message: %w", err)
	}
	rows := make([]rcptRow, len(rcpts))
	for i, r := range rcpts {
		rows[i] = rcptRow{MessageID: m.ID, Rcpt: r.addr, Domain: r.domain, IsLocal: r.local, Notify: r.notify, NextAttemptAt: now}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return 0, fmt.Errorf("enqueue: insert recipients: %w", err)
	}
	return m.ID, nil
}

// rcptDomain parses a recipient and returns where it goes: its domain, or
// its address literal ("[192.0.2.1]").
func rcptDomain(r string) (string, error) {
	p, err := address.ParseForwardPath(r)
	if err != nil {
		return "", err
	}
	if p.Postmaster {
		return "", fmt.Errorf("recipient %q: a bare postmaster is never remote", r)
	}
	if p.DomainLiteral != "" {
		return p.DomainLiteral, nil
	}
	return p.Address.Domain.String(), nil
}
