// Package queue is Postdesk's outbound queue (Mailtraq's Delivery Options):
// messages for remote recipients wait here, in the database, until a remote
// server takes them or the queue gives up and returns them to their sender
// with a delivery status notification (package dsn).
//
// Layout: a queued message is a row in queue_messages pointing at a blob of
// the message store (the blob a local delivery stored, or a new one), with
// one queue_recipients row per recipient not yet delivered: attempts, next
// attempt, last error, remote host and its reply. Rows are written by
// EnqueueTx inside the store's delivery transaction, so a message is stored
// and queued entirely or not at all.
//
// Delivery: Run keeps a pool of at most MaxConnections workers. A worker
// leases one due message (lease_owner, lease_until; an atomic UPDATE, with
// SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL), so that several
// processes sharing one database never send a message twice; the lease is
// renewed while the worker runs and expires if its process dies. Recipients
// are grouped by the host they go to (a route, the smart host, or the
// domain's MX hosts found through the configured DNS server) and sent in
// one SMTP transaction per host with go-smtp's client, with opportunistic
// STARTTLS. Each attempt logs one line per recipient. Temporary failures
// are retried after growing intervals until the lifetime runs out;
// permanent failures and expiry return a DSN to the sender, with a copy to
// the sending domain's postmaster, in the same transaction that gives up on
// the recipients. Nothing is returned to the null sender.
//
// Copies that stay on this server (the archive copy, notices to local
// addresses) are recipients too, marked local, and go through the
// LocalDeliverer.
package queue

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
)

// BlobTable is the queue's table whose blob_key keeps a blob alive; the
// store's garbage collection must know it.
const BlobTable = "queue_messages"

// Envelope is a message to queue for remote recipients.
type Envelope struct {
	BlobKey   string   // an existing blob; its mail_blobs row exists in the same transaction
	Prefix    string   // header lines to prepend when sending (usually empty)
	From      string   // envelope sender (already SRS-rewritten by delivery for forwards); "" = null sender
	Rcpts     []string // remote recipients
	MailboxID int64    // the submitting mailbox (0 for forwards, responders, DSNs)
	DomainID  int64
	Kind      string // "submission", "forward", "responder", "dsn", "report"
}

// LocalDeliverer delivers to addresses hosted here: DSNs and reports to
// local senders, the archive copy.
type LocalDeliverer interface {
	// DeliverLocal delivers body to rcpts as if it had arrived by SMTP
	// with envelope sender from ("" is the null sender). An error wrapping
	// tenants.ErrNoSuchUser, tenants.ErrDisabled or tenants.ErrNotHosted
	// is permanent and the queue gives up on those recipients; any other
	// error is retried.
	DeliverLocal(ctx context.Context, from string, rcpts []string, body io.Reader) error
}

// Outbox is the queue's entrance, where delivery hands its messages for
// remote recipients (EnqueueTx, then Kick). It is made before the Queue
// and given to it in Options.Outbox, so that local delivery, which takes
// the queue's notices (LocalDeliverer) and queues through the Outbox, can
// be built first and passed to New: each side is whole when it is built.
type Outbox struct {
	now  func() time.Time
	kick chan struct{}
}

// NewOutbox returns an Outbox whose rows are stamped by now (nil:
// time.Now).
func NewOutbox(now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{now: now, kick: make(chan struct{}, 1)}
}

func (o *Outbox) clock() time.Time { return o.now().UTC() }

// Kick wakes the workers of the queue built with o: call it after the
// transaction that queued a message has committed.
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Options configures a Queue; zero fields take defaults.
type Options struct {
	// Outbox is the entrance the queue takes its messages and kicks from;
	// nil: a new one on Now.
	Outbox *Outbox
	// Hostname is this server's name: EHLO, DSN Reporting-MTA, notices.
	Hostname string
	Logger   *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// KeyFile holds the AES key that seals stored SMTP AUTH passwords;
	// made on first use. Without one, credentials can't be stored.
	KeyFile string
	// DNSServer ("IP" or "IP:port") is asked for MX records when the
	// Delivery Options name none; empty: /etc/resolv.conf.
	DNSServer string
	// RemotePort is the port of MX hosts (25); tests point it at their
	// server.
	RemotePort int
	// RootCAs verifies the certificates of relays that get credentials,
	// of MTA-STS policy hosts and of MX hosts under an MTA-STS policy;
	// nil: the system's roots.
	RootCAs *x509.CertPool
	// MTASTSPort is the HTTPS port MTA-STS policies are fetched from
	// (443); tests point it at their server.
	MTASTSPort int
	// PollInterval is how often the queue looks for work that another
	// process added or whose lease ran out (15s).
	PollInterval time.Duration
	// LeaseDuration is how long a claimed message stays with its worker
	// without renewal (2 minutes; renewed every third of it).
	LeaseDuration time.Duration
	// DialTimeout bounds a connection attempt (30s).
	DialTimeout time.Duration
	// CommandTimeout bounds each SMTP reply (5 minutes, RFC 5321 4.5.3.2);
	// the reply to the end of data gets twice as long (RFC 5321 asks 10
	// minutes for it).
	CommandTimeout time.Duration
	// GreetingTimeout bounds the wait for a server's 220 greeting (1
	// minute). RFC 5321 4.5.3.2.1 suggests 5 minutes, for servers that
	// hold back their greeting under load; one that has not greeted in a
	// minute is tried again at the next attempt rather than holding a
	// worker.
	GreetingTimeout time.Duration
	// AttemptTimeout bounds one attempt to deliver to one destination:
	// the lookups of its hosts, the connections and the SMTP sessions
	// (1000 seconds, Postfix's transport_time_limit). The smart host's
	// delay comes before it.
	AttemptTimeout time.Duration
}

// Queue is the outbound queue.
type Queue struct {
	db       *database.DB
	store    *store.Store
	tenants  *tenants.Service
	log      *slog.Logger
	now      func() time.Time
	hostname string
	opts     Options
	sealer   *sealer
	// owner names this instance in lease rows.
	owner  string
	seq    atomic.Uint64
	outbox *Outbox
	slots  *slots
	local  LocalDeliverer

	setMu    sync.Mutex
	cached   *settings
	cachedAt time.Time
}

// New returns a queue on the store's database. local delivers its copies
// and notices that stay on this server; nil defers them (for a queue
// that is only read, never run). Local delivery that queues through the queue is
// built first around opts.Outbox, made on the queue's clock.
func New(db *database.DB, st *store.Store, ts *tenants.Service, local LocalDeliverer, opts Options) (*Queue, error) {
	if db == nil || st == nil || ts == nil {
		return nil, errors.New("queue: database, store and tenants are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.RemotePort == 0 {
		opts.RemotePort = 25
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 15 * time.Second
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = 2 * time.Minute
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 30 * time.Second
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = 5 * time.Minute
	}
	if opts.GreetingTimeout <= 0 {
		opts.GreetingTimeout = time.Minute
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 1000 * time.Second
	}
	if opts.DNSServer != "" {
		s, err := normalizeDNSServer(opts.DNSServer)
		if err != nil {
			return nil, err
		}
		opts.DNSServer = s
	}
	if opts.Outbox == nil {
		opts.Outbox = NewOutbox(opts.Now)
	}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	q := &Queue{
		db: db, store: st, tenants: ts, local: local, log: opts.Logger, now: opts.Now, hostname: opts.Hostname,
		opts: opts, sealer: newSealer(opts.KeyFile), owner: hex.EncodeToString(id[:]),
		outbox: opts.Outbox, slots: newSlots(),
	}
	return q, nil
}

func (q *Queue) clock() time.Time { return q.now().UTC() }

// Kick wakes the workers: call it after the transaction that queued a
// message has committed.
func (q *Queue) Kick() { q.outbox.Kick() }

// Run delivers queued messages until ctx ends, then waits for the
// attempts in flight to stop and hands their messages back.
func (q *Queue) Run(ctx context.Context) {
	q.log.InfoContext(ctx, "outbound queue running", "instance", q.owner)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		q.reportLoop(ctx)
	}()
	for ctx.Err() == nil {
		st, err := q.current(ctx)
		if err != nil {
			if ctx.Err() == nil {
				q.log.WarnContext(ctx, "queue: read delivery options", "err", err)
			}
			q.sleep(ctx, q.opts.PollInterval)
			continue
		}
		q.slots.setLimit(st.MaxConnections)
		if !q.slots.acquire(ctx) {
			return
		}
		j, next, err := q.claim(ctx)
		if err != nil || j == nil {
			q.slots.release()
			if err != nil && ctx.Err() == nil {
				q.log.WarnContext(ctx, "queue: claim a message", "err", err)
			}
			wait := q.opts.PollInterval
			if err == nil && !next.IsZero() {
				if d := next.Sub(q.clock()); d < wait {
					wait = d
				}
			}
			// A due message another process is claiming right now must
			// not make this loop spin.
			q.sleep(ctx, max(wait, 50*time.Millisecond))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer q.slots.release()
			q.attempt(ctx, j)
		}()
	}
}

// sleep waits for d, a Kick or the end of ctx.
func (q *Queue) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-q.outbox.kick:
	case <-t.C:
	}
}

// slots bounds the attempts (and so the connections) in flight; the limit
// follows the Delivery Options.
type slots struct {
	mu     sync.Mutex
	active int
	limit  int
	wake   chan struct{}
}

func newSlots() *slots { return &slots{limit: 1, wake: make(chan struct{})} }

func (s *slots) setLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n != s.limit {
		s.limit = n
		s.broadcast()
	}
}

func (s *slots) acquire(ctx context.Context) bool {
	for {
		s.mu.Lock()
		if s.active < s.limit {
			s.active++
			s.mu.Unlock()
			return true
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-wake:
		}
	}
}

func (s *slots) release() {
	s.mu.Lock()
	s.active--
	s.broadcast()
	s.mu.Unlock()
}

func (s *slots) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
}
