package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/dsn"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// maxReturned is the largest original a DSN returns whole; past it, only
// its header.
const maxReturned = 1 << 20

// retryDelay is the wait after the n-th failed attempt (n from 1); the
// last interval repeats.
func retryDelay(intervals []time.Duration, n int64) time.Duration {
	if len(intervals) == 0 {
		intervals = DefaultSettings().RetryIntervals
	}
	i := int(n - 1)
	if i < 0 {
		i = 0
	}
	if i >= len(intervals) {
		i = len(intervals) - 1
	}
	return intervals[i]
}

// finish records an attempt's outcome, in one transaction: delivered and
// failed recipients are removed (failures kept for the report), deferred
// ones get their next attempt, the lease ends, and a DSN for the failures
// is queued. A deferred recipient past the lifetime fails as expired.
func (q *Queue) finish(ctx context.Context, st *settings, j *job, results []result) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	now := q.clock()
	expires := j.msg.CreatedAt.Add(st.Lifetime)
	tried := false
	for i := range results {
		r := &results[i]
		if r.outcome == deferred && !now.Before(expires) {
			r.outcome, r.status = failed, "4.4.7"
			r.text = fmt.Sprintf("delivery time expired (queued %s); last error: %s", j.msg.CreatedAt.Format(time.RFC3339), r.text)
			q.log.WarnContext(ctx, "delivery", "queue_id", j.msg.ID, "rcpt", j.rcpts[i].Rcpt, "result", "expired",
				"remote_host", r.host, "reply", r.text, "from", j.msg.MailFrom, "kind", j.msg.Kind)
		}
		tried = tried || r.outcome != notTried
	}
	if !tried {
		q.release(ctx, j)
		return
	}
	subject := ""
	var bounce []int
	for i, r := range results {
		if r.outcome != failed {
			continue
		}
		if subject == "" {
			if b, err := q.store.Blob(ctx, j.msg.BlobKey); err == nil {
				subject = b.Subject
			}
		}
		// Never a bounce to the null sender (RFC 5321 4.5.5), nor for
		// the archive copy.
		if j.rcpts[i].Notify && j.msg.MailFrom != "" {
			bounce = append(bounce, i)
		}
	}
	record := func(tx *gorm.DB) error { return q.recordTx(tx, st, j, results, subject, now) }
	var err error
	if len(bounce) > 0 {
		err = q.bounce(ctx, j, results, bounce, record)
		if err != nil && !errors.Is(err, errLeaseLost) {
			// A failure whose notice can't be made is not given up on:
			// it stays queued and is tried again.
			q.log.ErrorContext(ctx, "queue: could not return a failed message; keeping it queued", "queue_id", j.msg.ID, "err", err)
			for _, i := range bounce {
				results[i].outcome = deferred
				results[i].text = "could not return the message to its sender: " + results[i].text
			}
			err = q.db.Write(ctx, record)
		}
	} else {
		err = q.db.Write(ctx, record)
	}
	switch {
	case errors.Is(err, errLeaseLost):
		q.log.WarnContext(ctx, "queue: message deleted or lease lost during the attempt; outcome not recorded", "queue_id", j.msg.ID)
	case err != nil:
		q.log.ErrorContext(ctx, "queue: record delivery outcome", "queue_id", j.msg.ID, "err", err)
		q.release(ctx, j)
	}
}

// recordTx writes an attempt's outcome; it fails with errLeaseLost when the
// message is no longer this attempt's (deleted, or its lease ran out and
// another worker took it).
func (q *Queue) recordTx(tx *gorm.DB, st *settings, j *job, results []result, subject string, now time.Time) error {
	if err := q.lockLeaseTx(tx, j); err != nil {
		return err
	}
	expires := j.msg.CreatedAt.Add(st.Lifetime)
	for i, r := range results {
		rc := j.rcpts[i]
		switch r.outcome {
		case notTried:
			continue
		case delivered:
			if err := tx.Delete(&rcptRow{}, rc.ID).Error; err != nil {
				return fmt.Errorf("delete delivered recipient: %w", err)
			}
		case failed:
			if err := tx.Delete(&rcptRow{}, rc.ID).Error; err != nil {
				return fmt.Errorf("delete failed recipient: %w", err)
			}
			f := failureRow{QueueID: j.msg.ID, Kind: j.msg.Kind, MailFrom: j.msg.MailFrom, Rcpt: rc.Rcpt, Subject: truncate(subject, 500),
				Error: truncate(r.text, 2000), RemoteHost: r.host, Attempts: rc.Attempts + 1, DomainID: j.msg.DomainID, FailedAt: now}
			if err := tx.Create(&f).Error; err != nil {
				return fmt.Errorf("record failure: %w", err)
			}
		case deferred:
			n := rc.Attempts + 1
			next := now.Add(retryDelay(st.RetryIntervals, n))
			if next.After(expires) && now.Before(expires) {
				// One last try when the lifetime runs out.
				next = expires
			}
			err := tx.Model(&rcptRow{}).Where("id = ?", rc.ID).Updates(map[string]any{
				"attempts": n, "next_attempt_at": next, "last_attempt_at": now,
				"last_error": truncate(r.text, 2000), "remote_host": truncate(r.host, 300), "remote_reply": truncate(r.reply, 2000),
			}).Error
			if err != nil {
				return fmt.Errorf("record deferral: %w", err)
			}
		}
	}
	return q.settleMessageTx(tx, j.msg.ID)
}

// bounce composes the DSN for the failed recipients and queues it to the
// sender, and a copy with the returned message's header only to the
// sending domain's postmaster, in the transaction that records the outcome
// (record), so that a failure is returned exactly once. A DSN goes with the
// null sender.
//
// The postmaster's copy carries the header, never the body, as Postfix's
// (notify_classes = bounce sends "the message header" to the postmaster):
// the postmaster learns that and why mail failed, not what the sender
// wrote. It goes to postmaster@ of the sender's own domain, which tenants
// resolves within that domain (its postmaster, its catchrest) or to the
// system's, never to another tenant.
func (q *Queue) bounce(ctx context.Context, j *job, results []result, idx []int, record func(*gorm.DB) error) error {
	sender, err := q.bounceRcpt(ctx, j, j.msg.MailFrom)
	if err != nil {
		return err
	}
	// A forwarded message is someone else's mail passing through: its
	// failure goes back to its sender (through SRS, RFC 5321 3.6.3), but
	// no copy goes to our postmaster, who can do nothing about it (Postfix
	// sends the postmaster no copy of bounces by default).
	var pm *newRcpt
	if j.msg.Kind != KindForward && j.msg.Kind != KindList {
		a, err := q.postmasterFor(ctx, j.msg.DomainID)
		if err != nil {
			return err
		}
		if a != "" && (sender == nil || !q.sameMailbox(ctx, a, sender.addr)) {
			if pm, err = q.bounceRcpt(ctx, j, a); err != nil {
				return err
			}
		}
	}
	if sender == nil && pm == nil {
		return q.db.Write(ctx, record)
	}

	now := q.clock()
	n := &dsn.Notice{
		ReportingMTA: q.hostname,
		From:         "MAILER-DAEMON@" + q.hostname,
		To:           j.msg.MailFrom,
		Date:         now,
		ArrivalDate:  j.msg.CreatedAt,
		HeadersOnly:  j.msg.Size > maxReturned,
	}
	for _, i := range idx {
		r := results[i]
		rc := dsn.Recipient{FinalRecipient: j.rcpts[i].Rcpt, Action: dsn.Failed, Status: r.status, RemoteMTA: r.mta, LastAttemptDate: now}
		if r.reply != "" && r.status != "4.4.7" {
			rc.Diagnostic = r.reply
		} else {
			rc.Diagnostic, rc.DiagnosticType = r.text, "X-Postdesk"
		}
		n.Recipients = append(n.Recipients, rc)
	}
	var copyBlob blob.Pending
	var copyMeta *store.Meta
	if pm != nil {
		c := *n
		c.To, c.HeadersOnly = pm.addr, true
		c.Subject = "Postmaster Copy: Undelivered Mail"
		if copyBlob, copyMeta, err = q.composeDSN(ctx, j, &c); err != nil {
			return err
		}
		if sender == nil {
			return q.queueDSN(ctx, j, copyBlob, copyMeta, []newRcpt{*pm}, record)
		}
	}
	main, meta, err := q.composeDSN(ctx, j, n)
	if err != nil {
		if copyBlob != nil {
			copyBlob.Abort()
		}
		return err
	}
	if copyBlob != nil {
		// The copy is queued inside the sender's notice's transaction;
		// should that fail, its file is removed (or, after a crash,
		// collected: it has no row).
		if err := copyBlob.Commit(); err != nil {
			copyBlob.Abort()
			main.Abort()
			return fmt.Errorf("store postmaster copy: %w", err)
		}
	}
	withCopy := record
	if pm != nil {
		withCopy = func(tx *gorm.DB) error {
			if err := record(tx); err != nil {
				return err
			}
			if err := q.store.AddBlobTx(database.TxOf(tx), copyBlob.Key(), copyBlob.Size(), copyMeta); err != nil {
				return err
			}
			id, err := q.insertTx(tx, Envelope{BlobKey: copyBlob.Key(), Kind: KindDSN, DomainID: j.msg.DomainID}, []newRcpt{*pm})
			if err == nil {
				q.log.InfoContext(ctx, "queue: postmaster copy of a return", "queue_id", j.msg.ID, "dsn_queue_id", id, "to", pm.addr)
			}
			return err
		}
	}
	err = q.queueDSN(ctx, j, main, meta, []newRcpt{*sender}, withCopy)
	if err != nil && copyBlob != nil && !errors.Is(err, database.ErrCommitUnknown) {
		// Not committed: the copy's row is not there either. (When the
		// commit's fate is unknown the file stays; garbage collection
		// removes it if no row came to be.)
		q.store.Blobs().Delete(context.WithoutCancel(ctx), copyBlob.Key())
	}
	return err
}

// bounceRcpt is the queue recipient a notice goes to at address a; nil
// (logged) for an address nothing can be returned to.
func (q *Queue) bounceRcpt(ctx context.Context, j *job, a string) (*newRcpt, error) {
	domain, local, err := q.locality(ctx, a)
	if errors.Is(err, errBadAddress) {
		q.log.WarnContext(ctx, "queue: can't return a message to an unparsable address", "queue_id", j.msg.ID, "to", a)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &newRcpt{addr: a, domain: domain, local: local, notify: true}, nil
}

// composeDSN writes notice n with the original of j into a new blob,
// committed, and indexes it.
func (q *Queue) composeDSN(ctx context.Context, j *job, n *dsn.Notice) (blob.Pending, *store.Meta, error) {
	orig, err := q.open(ctx, j)
	if err != nil {
		return nil, nil, fmt.Errorf("read original: %w", err)
	}
	var buf bytes.Buffer
	err = dsn.Write(&buf, n, orig)
	orig.Close()
	if err != nil {
		return nil, nil, err
	}
	p, err := q.store.Blobs().Create(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("create dsn blob: %w", err)
	}
	if _, err := p.Write(buf.Bytes()); err != nil {
		p.Abort()
		return nil, nil, fmt.Errorf("write dsn: %w", err)
	}
	meta, err := store.Index(p.ReaderAt(), p.Size())
	if err != nil {
		p.Abort()
		return nil, nil, fmt.Errorf("index dsn: %w", err)
	}
	return p, meta, nil
}

// queueDSN stores the notice in p and queues it for to, with record (and
// whatever else it writes) in the same transaction.
func (q *Queue) queueDSN(ctx context.Context, j *job, p blob.Pending, meta *store.Meta, to []newRcpt, record func(*gorm.DB) error) error {
	_, err := q.store.Deliver(ctx, &store.Delivery{Blob: p, Meta: meta, KeepBlob: true, Extra: func(t database.Tx, key string) error {
		tx := t.Gorm()
		if err := record(tx); err != nil {
			return err
		}
		id, err := q.insertTx(tx, Envelope{BlobKey: key, Kind: KindDSN, DomainID: j.msg.DomainID}, to)
		if err == nil {
			q.log.InfoContext(ctx, "queue: returned to sender", "queue_id", j.msg.ID, "dsn_queue_id", id, "to", to[0].addr)
		}
		return err
	}})
	if err != nil {
		return err
	}
	q.Kick()
	return nil
}

var errBadAddress = errors.New("unparsable address")

// locality says where an address is delivered: on this server when its
// domain is hosted here (the local delivery then finds the mailbox, or
// reverses an SRS address), else remotely.
func (q *Queue) locality(ctx context.Context, a string) (domain string, local bool, err error) {
	p, err := address.ParseForwardPath(a)
	if err != nil || p.Postmaster {
		return "", false, errBadAddress
	}
	if p.DomainLiteral != "" {
		return p.DomainLiteral, false, nil
	}
	_, err = q.tenants.ResolveRecipient(ctx, p.Address)
	switch {
	case errors.Is(err, tenants.ErrNotHosted):
		return p.Address.Domain.String(), false, nil
	case err == nil, errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled):
		return p.Address.Domain.String(), true, nil
	}
	return "", false, fmt.Errorf("resolve %s: %w", a, err)
}

// postmasterFor returns the address the postmaster's copy of a bounce goes
// to: postmaster@ of the sending domain, which tenants resolves within that
// domain (else to the system postmaster or the system mailbox, never to
// another tenant); for domain 0, the system postmaster an administrator
// named. "" when there is none.
func (q *Queue) postmasterFor(ctx context.Context, domainID int64) (string, error) {
	sc := tenants.SystemScope("queue")
	if domainID != 0 {
		d, err := q.tenants.DomainByID(ctx, sc, domainID)
		if err != nil && !errors.Is(err, tenants.ErrNotFound) {
			return "", err
		}
		if err == nil {
			a := address.Address{Local: "postmaster", Domain: address.Domain(d.Name)}
			_, err := q.tenants.ResolveRecipient(ctx, a)
			switch {
			case err == nil:
				return a.String(), nil
			case errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled), errors.Is(err, tenants.ErrNotHosted):
				return "", nil
			default:
				return "", err
			}
		}
	}
	p, err := q.tenants.ResolvePostmaster(ctx)
	if errors.Is(err, tenants.ErrNoSuchUser) || errors.Is(err, tenants.ErrDisabled) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if p.System {
		// No address reaches the system mailbox: no copy.
		return "", nil
	}
	return p.Mailbox.Address.String(), nil
}

// sameMailbox reports whether two addresses reach the same local mailbox
// (the sender may be the postmaster), so the notice is not sent twice.
func (q *Queue) sameMailbox(ctx context.Context, a, b string) bool {
	pa, err1 := address.ParseForwardPath(a)
	pb, err2 := address.ParseForwardPath(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if pa == pb {
		return true
	}
	ra, err1 := q.tenants.ResolveRecipient(ctx, pa.Address)
	rb, err2 := q.tenants.ResolveRecipient(ctx, pb.Address)
	return err1 == nil && err2 == nil && ra.Mailbox.MailboxID == rb.Mailbox.MailboxID
}

// truncate cuts s to at most n bytes on a rune boundary, without NUL
// bytes (PostgreSQL refuses them in text).
func truncate(s string, n int) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != 0 {
			b = append(b, s[i])
		}
	}
	s = string(b)
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
