package queue

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
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

// EnqueueTx is Outbox.EnqueueTx on the queue's Outbox.
func (q *Queue) EnqueueTx(tx database.Tx, e Envelope) error { return q.outbox.EnqueueTx(tx, e) }

// EnqueueTx queues e for its remote recipients in tx, the transaction of
// store.Delivery.Extra, so that the message is queued exactly when the
// delivery commits. When an archive mailbox is set, a copy for it is
// queued with the message. Call Kick after the commit.
func (o *Outbox) EnqueueTx(t database.Tx, e Envelope) error {
	return o.EnqueueBatchTx(t, []Envelope{e})
}

// EnqueueBatchTx is the queue's EnqueueBatchTx.
func (q *Queue) EnqueueBatchTx(tx database.Tx, es []Envelope) error {
	return q.outbox.EnqueueBatchTx(tx, es)
}

// enqueueBatch bounds the rows of one multi-row INSERT: PostgreSQL takes
// 65535 parameters a statement, SQLite 32766.
const enqueueBatch = 500

// EnqueueBatchTx queues envelopes as EnqueueTx does, all in tx: the
// settings and each blob's size are read once for them all, and their
// rows are written with multi-row INSERTs (a list post's thousands of VERP
// envelopes, one per remote member, in a few statements). Any envelope's
// error queues none of them.
func (o *Outbox) EnqueueBatchTx(t database.Tx, es []Envelope) error {
	tx := t.Gorm()
	if len(es) == 0 {
		return nil
	}
	st, err := loadSettings(tx)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	var archive *newRcpt
	if st.ArchiveAddress != "" {
		a, err := address.ParseAddress(st.ArchiveAddress)
		if err != nil {
			return fmt.Errorf("enqueue: archive address: %w", err)
		}
		// The archive gets a copy but never causes a bounce.
		archive = &newRcpt{addr: a.String(), domain: a.Domain.String(), local: true}
	}
	sizes := map[string]int64{}
	now := o.clock()
	msgs := make([]messageRow, len(es))
	rcpts := make([][]newRcpt, len(es))
	for i, e := range es {
		if len(e.Rcpts) == 0 {
			return errors.New("enqueue: no recipients")
		}
		rs := make([]newRcpt, 0, len(e.Rcpts)+1)
		for _, r := range e.Rcpts {
			r = strings.TrimSpace(r)
			d, err := rcptDomain(r)
			if err != nil {
				return fmt.Errorf("enqueue: %w", err)
			}
			rs = append(rs, newRcpt{addr: r, domain: d, notify: true})
		}
		if archive != nil && e.Kind != KindList {
			rs = append(rs, *archive)
		}
		rcpts[i] = rs
		if err := checkEnvelope(e); err != nil {
			return err
		}
		size, ok := sizes[e.BlobKey]
		if !ok {
			if size, err = blobSize(tx, e.BlobKey); err != nil {
				return err
			}
			sizes[e.BlobKey] = size
		}
		msgs[i] = messageRow{
			BlobKey: e.BlobKey, Prefix: e.Prefix, MailFrom: e.From, MailboxID: e.MailboxID, DomainID: e.DomainID,
			Kind: e.Kind, Size: size + int64(len(e.Prefix)), CreatedAt: now, NextAttemptAt: now,
		}
	}
	if err := tx.CreateInBatches(&msgs, enqueueBatch).Error; err != nil {
		return fmt.Errorf("enqueue: insert messages: %w", err)
	}
	var rows []rcptRow
	for i, rs := range rcpts {
		if msgs[i].ID == 0 {
			return errors.New("enqueue: insert messages: no id returned")
		}
		for _, r := range rs {
			rows = append(rows, rcptRow{MessageID: msgs[i].ID, Rcpt: r.addr, Domain: r.domain, IsLocal: r.local, Notify: r.notify, NextAttemptAt: now})
		}
	}
	if err := tx.CreateInBatches(&rows, enqueueBatch).Error; err != nil {
		return fmt.Errorf("enqueue: insert recipients: %w", err)
	}
	return nil
}

func (q *Queue) insertTx(tx *gorm.DB, e Envelope, rcpts []newRcpt) (int64, error) {
	return q.outbox.insertTx(tx, e, rcpts)
}

// insertTx writes a message's rows; its recipients are due at once.
func (o *Outbox) insertTx(tx *gorm.DB, e Envelope, rcpts []newRcpt) (int64, error) {
	if err := checkEnvelope(e); err != nil {
		return 0, err
	}
	size, err := blobSize(tx, e.BlobKey)
	if err != nil {
		return 0, err
	}
	now := o.clock()
	m := messageRow{
		BlobKey: e.BlobKey, Prefix: e.Prefix, MailFrom: e.From, MailboxID: e.MailboxID, DomainID: e.DomainID,
		Kind: e.Kind, Size: size + int64(len(e.Prefix)), CreatedAt: now, NextAttemptAt: now,
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

// checkEnvelope checks what an envelope carries besides its recipients.
func checkEnvelope(e Envelope) error {
	if e.BlobKey == "" {
		return errors.New("enqueue: no blob")
	}
	if !validKind(e.Kind) {
		return fmt.Errorf("enqueue: unknown kind %q", e.Kind)
	}
	if err := checkSender(e.From); err != nil {
		return fmt.Errorf("enqueue: sender: %w", err)
	}
	if strings.ContainsAny(e.Prefix, "\x00") {
		return errors.New("enqueue: NUL in prefix")
	}
	return nil
}

// blobSize reads the size of a blob whose row is in tx.
func blobSize(tx *gorm.DB, key string) (int64, error) {
	var sizes []int64
	if err := tx.Model(&store.BlobRow{}).Where("blob_key = ?", key).Pluck("size", &sizes).Error; err != nil {
		return 0, fmt.Errorf("enqueue: read blob: %w", err)
	}
	if len(sizes) == 0 {
		return 0, fmt.Errorf("enqueue: blob %s has no row", key)
	}
	return sizes[0], nil
}

// maxSRSLocalpart is the longest local part of an SRS sender the queue
// takes.
const maxSRSLocalpart = 256

// checkSender checks an envelope sender as MAIL FROM would take it, but
// for the length of an SRS address: a forward's sender rewritten by SRS
// (mailsvc/delivery) holds the original address in its local part and may
// pass RFC 5321's 64 octets (and its 256 for the path). RFC 5321 4.5.3.1
// lets a receiver accept longer ones, and the limits protect parsing, not
// meaning; so up to maxSRSLocalpart octets of dot-atom are taken for an
// SRS sender, and its domain must be a domain as ever.
func checkSender(from string) error {
	_, err := address.ParseReversePath(from)
	if err == nil || (!errors.Is(err, address.ErrLocalpartTooLong) && !errors.Is(err, address.ErrPathTooLong)) {
		return err
	}
	i := strings.LastIndexByte(from, '@')
	if i < 0 {
		return err
	}
	local, domain := from[:i], from[i+1:]
	if len(local) <= 5 || !(strings.EqualFold(local[:5], "SRS0=") || strings.EqualFold(local[:5], "SRS1=")) {
		return err
	}
	if len(local) > maxSRSLocalpart {
		return fmt.Errorf("SRS local part of %d octets, more than %d: %w", len(local), maxSRSLocalpart, address.ErrLocalpartTooLong)
	}
	if !dotAtom(local) {
		return fmt.Errorf("SRS local part %q: %w", local, address.ErrSyntax)
	}
	if _, derr := address.ParseDomain(domain); derr != nil {
		return derr
	}
	return nil
}

// dotAtom reports whether s is RFC 5322 3.2.3 dot-atom-text, with UTF-8
// (RFC 6531 3.3) but no control characters, as tenants/address takes a
// local part.
func dotAtom(s string) bool {
	if !utf8.ValidString(s) || s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r == '.', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r >= utf8.RuneSelf:
			if unicode.IsControl(r) {
				return false
			}
		case !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r):
			return false
		}
	}
	return true
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
