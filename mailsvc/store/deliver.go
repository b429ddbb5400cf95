package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
)

// Rcpt is one local mailbox a delivery stores into.
type Rcpt struct {
	// System stores into the system mailbox (see system.go); MailboxID,
	// Folder, Quota and Flags are then unused.
	System    bool
	MailboxID int64
	Folder    string // "" means INBOX
	Prefix    string // header lines for this recipient only (Return-Path, Delivered-To)
	Quota     int64  // bytes; 0: unlimited
	Flags     Flags
}

// Delivery is one message stored for several local recipients in one
// transaction, together with whatever Extra writes (the outbound queue's
// rows for remote recipients), so that a message is stored and queued
// entirely or not at all.
type Delivery struct {
	Blob blob.Pending // written, not yet committed
	Meta *Meta        // nil: Index is run on the blob
	// InternalDate is kept with its zone (APPEND's date-time); zero
	// means now, in the zone of the store's clock, which for SMTP
	// delivery is the server's local zone (UTC if the process runs in
	// UTC).
	InternalDate time.Time
	Rcpts        []Rcpt
	// Extra runs in the same transaction after the messages are stored.
	Extra func(tx database.Tx, blobKey string) error
	// KeepBlob keeps the blob even when no recipient stored it (Extra
	// references it).
	KeepBlob bool
}

// DeliveryResult says what happened to each recipient: nil, or
// ErrOverQuota.
type DeliveryResult struct {
	Errs []error
	UIDs []uint32
}

// Deliver makes the blob durable, then stores the message for every
// recipient in one transaction. If that transaction fails the blob is
// deleted and nothing is stored. Recipients over quota are skipped and
// reported in the result.
func (s *Store) Deliver(ctx context.Context, d *Delivery) (*DeliveryResult, error) {
	meta := d.Meta
	if meta == nil {
		var err error
		if meta, err = Index(d.Blob.ReaderAt(), d.Blob.Size()); err != nil {
			d.Blob.Abort()
			return nil, fmt.Errorf("index message: %w", err)
		}
	}
	if err := d.Blob.Commit(); err != nil {
		return nil, fmt.Errorf("store message body: %w", err)
	}
	j := &job{d: d, meta: meta, key: d.Blob.Key(), size: d.Blob.Size(), done: make(chan struct{})}
	j.date = d.InternalDate
	if j.date.IsZero() {
		j.date = s.now()
	}
	s.commitGrouped(ctx, j)
	if errors.Is(j.err, errNothingStored) {
		s.blobs.Delete(context.WithoutCancel(ctx), j.key)
		return j.res, nil
	}
	if errors.Is(j.err, database.ErrCommitUnknown) {
		// The rows may exist: keep the blob; garbage collection removes
		// it if nothing references it.
		return nil, fmt.Errorf("store message: %w", j.err)
	}
	if j.err != nil {
		if derr := s.blobs.Delete(context.WithoutCancel(ctx), j.key); derr != nil {
			s.log.WarnContext(ctx, "orphan blob left for cleanup", "blob", j.key, "err", derr)
		}
		return nil, fmt.Errorf("store message: %w", j.err)
	}
	s.notify.publish(j.touched...)
	return j.res, nil
}

// job is one delivery waiting for a group commit.
type job struct {
	d       *Delivery
	meta    *Meta
	key     string
	size    int64
	date    time.Time
	res     *DeliveryResult
	touched []int64
	err     error
	done    chan struct{}
}

// groupCommit batches concurrent deliveries into one transaction, so that
// many messages share one fsync of the database log instead of waiting for
// one commit each: the first delivery to arrive commits everything queued
// while it works (leader), the others wait for its result. Durability is
// unchanged: Deliver returns only after the commit holding its rows.
type groupCommit struct {
	mu      sync.Mutex
	running bool
	pending []*job
}

// maxBatch bounds one group commit.
const maxBatch = 128

func (s *Store) commitGrouped(ctx context.Context, j *job) {
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, j)
	if g.running {
		g.mu.Unlock()
		<-j.done
		return
	}
	g.running = true
	for len(g.pending) > 0 {
		n := min(len(g.pending), maxBatch)
		batch := g.pending[:n:n]
		g.pending = g.pending[n:]
		g.mu.Unlock()
		s.commitBatch(ctx, batch)
		g.mu.Lock()
	}
	g.running = false
	g.mu.Unlock()
	<-j.done
}

// commitBatch runs the jobs in one transaction, each inside a savepoint so
// that one job's failure (its Extra, say) leaves the others in. The batch
// outlives the leader's request: it carries other clients' messages.
func (s *Store) commitBatch(ctx context.Context, batch []*job) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var touched []int64
		for i, j := range batch {
			j.err = nil
			if len(batch) == 1 {
				// Alone: no savepoint needed; its error rolls back all.
				if err := s.deliverTx(tx, j); err != nil {
					return err
				}
				touched = append(touched, j.touched...)
				continue
			}
			sp := fmt.Sprintf("d%d", i)
			if err := tx.SavePoint(sp).Error; err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if j.err = s.deliverTx(tx, j); j.err != nil {
				if err := tx.RollbackTo(sp).Error; err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
				continue
			}
			touched = append(touched, j.touched...)
		}
		return s.notifyTx(tx, touched)
	})
	for _, j := range batch {
		if err != nil {
			j.err = err // the whole transaction failed: nothing of it is stored
		}
		close(j.done)
	}
}

// deliverTx stores one delivery in tx.
func (s *Store) deliverTx(tx *gorm.DB, j *job) error {
	d := j.d
	j.res = &DeliveryResult{Errs: make([]error, len(d.Rcpts)), UIDs: make([]uint32, len(d.Rcpts))}
	j.touched = nil
	stored := false
	if err := tx.Create(blobRow(j.key, j.size, j.meta, s.now())).Error; err != nil {
		return fmt.Errorf("insert blob row: %w", err)
	}
	// Many recipients: a few statements for most of them
	// (deliver_batch.go), first, in mailbox order as below.
	inBatch := map[int]bool{}
	if idx := batchable(d.Rcpts); idx != nil {
		any, err := s.deliverBatchTx(tx, j, idx)
		if err != nil {
			return err
		}
		stored = stored || any
		for _, i := range idx {
			inBatch[i] = true
		}
	}
	// Rows are locked in mailbox order, so two deliveries to the same
	// mailboxes can't deadlock.
	for _, i := range lockOrder(d.Rcpts) {
		if inBatch[i] {
			continue
		}
		r := d.Rcpts[i]
		if r.System {
			if err := s.addSystemTx(tx, j.key, r.Prefix, j.size, j.date); err != nil {
				return err
			}
			stored = true
			continue
		}
		msize := j.size + int64(len(r.Prefix))
		folder := r.Folder
		if folder == "" {
			folder = "INBOX"
		}
		f, err := s.ensureFolderTx(tx, r.MailboxID, canonical(folder), "")
		if err != nil {
			return err
		}
		// The folder row is locked before the usage row, the order every
		// writer keeps (expunge, copy, folder deletion), so that on
		// PostgreSQL a delivery and an expunge can't deadlock.
		if err := lockFolders(tx, f.ID); err != nil {
			return err
		}
		if err := s.checkQuota(tx, r.MailboxID, r.Quota, msize); err != nil {
			if errors.Is(err, ErrOverQuota) {
				j.res.Errs[i] = err
				continue
			}
			return err
		}
		uid, modseq, err := s.allocate(tx, f.ID, 1)
		if err != nil {
			return err
		}
		_, zone := j.date.Zone()
		saved := s.now().UTC()
		m := Message{FolderID: f.ID, MailboxID: r.MailboxID, UID: uid, ModSeq: modseq, InternalDate: j.date.UTC(),
			InternalZone: zone, Size: msize, BlobKey: j.key, Prefix: r.Prefix, SaveDate: &saved}
		r.Flags.apply(&m)
		if err := tx.Create(&m).Error; err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		if err := s.addUsage(tx, r.MailboxID, msize, 1); err != nil {
			return err
		}
		j.res.UIDs[i] = uid
		j.touched = append(j.touched, f.ID)
		stored = true
	}
	if d.Extra != nil {
		if err := d.Extra(database.TxOf(tx), j.key); err != nil {
			return err
		}
	}
	if !stored && !d.KeepBlob {
		return errNothingStored
	}
	return nil
}

var errNothingStored = errors.New("nothing stored")

// AddBlobTx records in tx the metadata row of a blob committed apart from a
// delivery: a second message queued in the transaction of another (the
// postmaster's copy of a bounce). Should tx fail, the blob has no row and
// garbage collection removes its file.
func (s *Store) AddBlobTx(tx database.Tx, key string, size int64, meta *Meta) error {
	if err := tx.Gorm().Create(blobRow(key, size, meta, s.now())).Error; err != nil {
		return fmt.Errorf("insert blob row: %w", err)
	}
	return nil
}

func blobRow(key string, size int64, m *Meta, now time.Time) *BlobRow {
	return &BlobRow{
		BlobKey: key, Size: size, Header: string(m.Header), Envelope: marshal(m.Envelope), Structure: marshal(m.Structure),
		Subject: truncate(m.Subject, 1000), FromAddr: truncate(m.From, 1000), ToAddr: truncate(m.To, 2000),
		CcAddr: truncate(m.Cc, 2000), MessageID: truncate(m.MessageID, 500), SentAt: m.SentAt,
		HasAttachments: m.HasAttachments, CreatedAt: now.UTC(),
	}
}

// truncate cuts s to at most n bytes on a rune boundary; PostgreSQL also
// refuses NUL bytes in text, so those go.
func truncate(s string, n int) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c != 0 {
			out = append(out, c)
		}
	}
	s = string(out)
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// Append stores one message into a folder (IMAP APPEND, webmail drafts and
// sent copies). r is read up to maxSize bytes; a longer message is refused.
// date is the internal date, kept with its zone; zero means now.
func (s *Store) Append(ctx context.Context, mailboxID int64, folder string, quota int64, r io.Reader, maxSize int64, flags Flags, date time.Time) (*Folder, uint32, error) {
	f, err := s.Folder(ctx, mailboxID, folder)
	if err != nil {
		return nil, 0, err
	}
	p, err := s.blobs.Create(ctx)
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(p, io.LimitReader(r, maxSize+1))
	if err != nil {
		p.Abort()
		return nil, 0, fmt.Errorf("write message: %w", err)
	}
	if n > maxSize {
		p.Abort()
		return nil, 0, ErrTooBig
	}
	if quota > 0 {
		used, _, err := s.Usage(ctx, mailboxID)
		if err != nil {
			p.Abort()
			return nil, 0, err
		}
		if used+n > quota {
			p.Abort()
			return nil, 0, ErrOverQuota
		}
	}
	res, err := s.Deliver(ctx, &Delivery{Blob: p, InternalDate: date, Rcpts: []Rcpt{{MailboxID: mailboxID, Folder: f.Name, Quota: quota, Flags: flags}}})
	if err != nil {
		return nil, 0, err
	}
	if res.Errs[0] != nil {
		return nil, 0, res.Errs[0]
	}
	return f, res.UIDs[0], nil
}

// AppendMsg is one message of AppendMany: its body, written and not yet
// committed, its flags and its internal date (zero: now).
type AppendMsg struct {
	Blob  blob.Pending
	Flags Flags
	Date  time.Time
}

// AppendMany stores messages in a folder in one transaction, all of them
// or, over quota (the messages counted together) or on any error, none:
// IMAP's MULTIAPPEND (RFC 3502). It takes the pending blobs over: they are
// committed or, on failure, deleted. It returns the folder and the new
// UIDs, in the order of msgs.
func (s *Store) AppendMany(ctx context.Context, mailboxID int64, folder string, quota int64, msgs []AppendMsg) (*Folder, []uint32, error) {
	abort := func(from int) {
		for _, m := range msgs[from:] {
			m.Blob.Abort()
		}
	}
	f, err := s.Folder(ctx, mailboxID, folder)
	if err != nil {
		abort(0)
		return nil, nil, err
	}
	jobs := make([]*job, len(msgs))
	var keys []string
	defer func() {
		// Reached with keys left only on failure: the committed blobs
		// of messages not stored go.
		for _, k := range keys {
			if derr := s.blobs.Delete(context.WithoutCancel(ctx), k); derr != nil {
				s.log.WarnContext(ctx, "orphan blob left for cleanup", "blob", k, "err", derr)
			}
		}
	}()
	for i, m := range msgs {
		meta, err := Index(m.Blob.ReaderAt(), m.Blob.Size())
		if err != nil {
			abort(i)
			return nil, nil, fmt.Errorf("index message: %w", err)
		}
		if err := m.Blob.Commit(); err != nil {
			abort(i)
			return nil, nil, fmt.Errorf("store message body: %w", err)
		}
		keys = append(keys, m.Blob.Key())
		d := &Delivery{Blob: m.Blob, InternalDate: m.Date, Rcpts: []Rcpt{{MailboxID: mailboxID, Folder: f.Name, Quota: quota, Flags: m.Flags}}}
		jobs[i] = &job{d: d, meta: meta, key: m.Blob.Key(), size: m.Blob.Size(), date: m.Date}
		if jobs[i].date.IsZero() {
			jobs[i].date = s.now()
		}
	}
	uids := make([]uint32, len(jobs))
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		for i, j := range jobs {
			if err := s.deliverTx(tx, j); err != nil {
				return err
			}
			if err := j.res.Errs[0]; err != nil {
				return err // over quota: none is stored
			}
			uids[i] = j.res.UIDs[0]
		}
		return s.notifyTx(tx, []int64{f.ID})
	})
	if errors.Is(err, database.ErrCommitUnknown) {
		keys = nil // the rows may exist; garbage collection decides
		return nil, nil, fmt.Errorf("append messages: %w", err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("append messages: %w", err)
	}
	keys = nil
	s.notify.publish(f.ID)
	return f, uids, nil
}

// ErrTooBig is a message over the size limit.
var ErrTooBig = errors.New("message too big")

func lockOrder(rs []Rcpt) []int {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rs[idx[a]].MailboxID < rs[idx[b]].MailboxID })
	return idx
}
