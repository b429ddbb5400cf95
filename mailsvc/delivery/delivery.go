// Package delivery carries an accepted message to where the tenants' rules
// send it, in one transaction: it stores one blob in every mailbox the
// recipients' plans name (store mail, quotas, one copy per mailbox however
// often it is reached), follows forwards (local ones at once, remote ones
// through the outbound queue with the envelope sender rewritten by SRS,
// within the forwarding mailbox's send permission and limits), reverses
// SRS bounces, refuses mail loops, and after the commit lets each
// responder answer as RFC 3834 asks. The send limits (ratelimit.go) are
// the one limiter of submissions and remote forwards.
//
// Delivery headers that differ per recipient (Return-Path, Delivered-To)
// are each recipient's prefix row (store.Rcpt.Prefix), so one stored body
// serves every local recipient. The SMTP servers (mailsvc/smtpd) resolve
// recipients here at RCPT and deliver here after DATA; the outbound queue
// delivers its notices to local senders through DeliverLocal.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// Errors of Deliver; the SMTP server turns them into replies.
var (
	// ErrLoop: too many Received headers, or a Delivered-To already names a
	// mailbox the message would reach (554 5.4.6).
	ErrLoop = errors.New("mail loop detected")
	// ErrMailboxFull: a mailbox is full (452 4.2.2 at RCPT and DATA).
	ErrMailboxFull = errors.New("mailbox full")
	// ErrTooBigForMailbox: the declared size doesn't fit the mailbox's
	// quota (552 5.2.2, RFC 1870).
	ErrTooBigForMailbox = errors.New("message exceeds the mailbox's storage allocation")
	// ErrNoQueue: a remote recipient needs the outbound queue, and there
	// is none (a temporary failure).
	ErrNoQueue = errors.New("no outbound queue")
)

// Kinds of outbound envelopes (queue.Envelope.Kind), the queue's.
const (
	KindSubmission = queue.KindSubmission
	KindForward    = queue.KindForward
	KindResponder  = queue.KindResponder
	KindDSN        = queue.KindDSN
)

// Queue is the outbound queue as delivery uses it: a *queue.Queue, or the
// queue.Outbox a queue is built around (so that delivery can be built
// before the queue that delivers its notices through it).
type Queue interface {
	// EnqueueTx adds e inside tx, the delivery's transaction.
	EnqueueTx(tx database.Tx, e queue.Envelope) error
	// EnqueueBatchTx adds es inside tx, in a few multi-row statements.
	EnqueueBatchTx(tx database.Tx, es []queue.Envelope) error
	// Kick wakes the queue's workers after the commit.
	Kick()
}

// Options configures a Deliverer; zero fields take defaults.
type Options struct {
	Tenants *tenants.Service
	Store   *store.Store
	// Queue takes remote recipients; nil refuses them with ErrNoQueue.
	Queue Queue
	// SRS rewrites the sender of remote forwards; nil keeps it (and
	// SPF at the receiver may then fail).
	SRS *SRS
	// DKIM signs outgoing mail once, when it is queued (envelopes tells
	// with which domain's keys); nil sends it unsigned.
	DKIM *msgauth.Signer
	// Limits are the send limits (ratelimit.go): of submissions over SMTP
	// and webmail, remote forwards, responders and SRS bounces alike; zero
	// fields take the defaults.
	Limits RateLimits
	// Hostname names this server in the Message-IDs of responses.
	Hostname string
	Logger   *slog.Logger
	Now      func() time.Time
	// MaxReceived is the number of Received headers past which a message
	// is refused as looping; default 50.
	MaxReceived int
	// MaxForwardHops bounds a chain of local forwards; default 10.
	MaxForwardHops int
	// MaxGeneratedSize bounds messages handed to DeliverLocal; default 64 MiB.
	MaxGeneratedSize int64
	// PublicURL is the panel's address as users reach it (--public-url):
	// lists' one-click unsubscribe and confirmation links start with it;
	// empty: posts carry mailto links only.
	PublicURL string
}

// Deliverer delivers messages by the tenants' rules.
type Deliverer struct {
	tenants     *tenants.Service
	store       *store.Store
	queue       Queue
	srs         *SRS
	dkim        *msgauth.Signer
	limiter     *Limiter
	hostname    string
	log         *slog.Logger
	now         func() time.Time
	maxReceived int
	maxHops     int
	maxGen      int64
	publicURL   string
}

// New returns a Deliverer.
func New(opts Options) *Deliverer {
	d := &Deliverer{tenants: opts.Tenants, store: opts.Store, queue: opts.Queue, srs: opts.SRS, dkim: opts.DKIM, hostname: opts.Hostname,
		log: opts.Logger, now: opts.Now, maxReceived: opts.MaxReceived, maxHops: opts.MaxForwardHops, maxGen: opts.MaxGeneratedSize,
		publicURL: strings.TrimRight(opts.PublicURL, "/")}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.maxReceived <= 0 {
		d.maxReceived = 50
	}
	if d.maxHops <= 0 {
		d.maxHops = 10
	}
	if d.maxGen <= 0 {
		d.maxGen = 64 << 20
	}
	if d.hostname == "" {
		d.hostname = "localhost"
	}
	if d.store != nil {
		d.limiter = NewLimiter(d.store.DB(), opts.Limits, d.log, d.now)
	}
	return d
}

// Recipient is one envelope recipient, resolved.
type Recipient struct {
	// Address is the recipient as given (zero for a bare <postmaster>).
	Address address.Address
	// Plan is set for a local recipient.
	Plan *tenants.Plan
	// Remote is set for a remote recipient: an address outside our
	// domains, or the original sender an SRS bounce returns to.
	Remote address.Address
	// SRSBounce marks a recipient reached by reversing an SRS address:
	// SRSAddress (lower-cased), issued for SRSForwarder's remote forward,
	// whose send limits the bounce counts against (bounce.go).
	SRSBounce    bool
	SRSAddress   string
	SRSForwarder tenants.Target
	// List is set for a list's address or one of its command addresses
	// (list.go); Plan is nil then.
	List *tenants.ListTarget
}

// Local reports whether the recipient is handled here.
func (r Recipient) Local() bool { return r.Plan != nil || r.List != nil }

// Resolve resolves an envelope recipient of a message from sender from: a
// local plan, an SRS bounce (reversed to the original sender), or a remote
// address, for which it returns the recipient together with an error
// wrapping tenants.ErrNotHosted. Other errors: tenants.ErrNoSuchUser,
// tenants.ErrDisabled, and database trouble.
//
// An SRS address is reversed only for the null sender: a bounce is all
// that should ever come back to one (RFC 5321 4.5.5). Mail with any other
// sender is relayed nowhere; the address is then an ordinary local part of
// its domain (unknown, or the domain's catchrest). A valid address whose
// bounces are no longer returned (bounce.go) gives an error wrapping
// ErrSRSRefused.
func (d *Deliverer) Resolve(ctx context.Context, from, p address.Path) (Recipient, error) {
	if p.Postmaster {
		plan, err := d.tenants.ResolvePostmaster(ctx)
		if err != nil {
			return Recipient{}, err
		}
		return Recipient{Plan: plan}, nil
	}
	if p.DomainLiteral != "" {
		// An address literal names a host, never one of our domains:
		// nothing is routed by it (RFC 5321 4.1.3), here or onwards.
		return Recipient{}, fmt.Errorf("%s: address literal: %w", p, tenants.ErrNotHosted)
	}
	a := p.Address
	plan, err := d.tenants.ResolveRecipient(ctx, a)
	if errors.Is(err, tenants.ErrNotHosted) {
		return Recipient{Address: a, Remote: a}, err
	}
	if IsSRS(string(a.Local)) && d.srs != nil && from.IsNull() && (err == nil || errors.Is(err, tenants.ErrNoSuchUser)) {
		if r, ok, serr := d.resolveSRS(ctx, string(a.Local), a.Domain); ok || serr != nil {
			r.Address = a
			return r, serr
		}
	}
	if err != nil {
		return Recipient{}, err
	}
	if plan.List != nil {
		return Recipient{Address: a, List: plan.List}, nil
	}
	return Recipient{Address: a, Plan: plan}, nil
}

// ResolveSRS reverses an SRS local part too long for an ordinary address
// (SRS0 of a long address passes the 64 octets RFC 5321 allows, and other
// servers send such bounces). raw is the path as received, from the
// envelope sender. ok is false when it is not a valid SRS address of ours,
// or the sender is not the null sender (see Resolve).
func (d *Deliverer) ResolveSRS(ctx context.Context, from address.Path, raw string) (Recipient, bool, error) {
	i := strings.LastIndexByte(raw, '@')
	if d.srs == nil || i < 0 || !IsSRS(raw[:i]) || !from.IsNull() {
		return Recipient{}, false, nil
	}
	dom, err := address.ParseDomain(raw[i+1:])
	if err != nil {
		return Recipient{}, false, nil
	}
	// The domain must be ours.
	if ok, err := d.hosted(ctx, dom); err != nil || !ok {
		return Recipient{}, false, err
	}
	return d.resolveSRS(ctx, raw[:i], dom)
}

// hosted reports whether a domain is one of ours (an alias domain, or a
// disabled one, too); "postmaster" always exists to ask that.
func (d *Deliverer) hosted(ctx context.Context, dom address.Domain) (bool, error) {
	_, err := d.tenants.ResolveRecipient(ctx, address.Address{Local: "postmaster", Domain: dom})
	switch {
	case errors.Is(err, tenants.ErrNotHosted):
		return false, nil
	case err == nil, errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled):
		return true, nil
	}
	return false, fmt.Errorf("look up domain %s: %w", dom, err)
}

// HostedSender reports whether an envelope sender is in one of our
// domains. Mail from such a sender that arrives at the MX without
// authentication is not refused (a hosted domain's users may send through
// other servers too), but marked, so that webmail warns of it
// (mailsvc/smtpd, data.go).
func (d *Deliverer) HostedSender(ctx context.Context, from address.Path) (bool, error) {
	if from.IsNull() || from.Address.IsZero() {
		return false, nil
	}
	return d.hosted(ctx, from.Address.Domain)
}

// resolveSRS reverses an SRS local part received at forwardDomain, for a
// bounce the forwarding mailbox may still return (bounce.go).
func (d *Deliverer) resolveSRS(ctx context.Context, local string, forwardDomain address.Domain) (Recipient, bool, error) {
	srsAddr := strings.ToLower(local + "@" + forwardDomain.String())
	l, dom, mailboxID, err := d.srs.Reverse(local, forwardDomain.String())
	switch {
	case errors.Is(err, ErrSRSExpired):
		return Recipient{}, true, fmt.Errorf("%s: %w: %w", srsAddr, ErrSRSRefused, tenants.ErrDisabled)
	case err != nil:
		return Recipient{}, false, nil
	}
	orig, err := address.ParseAddress(l + "@" + dom)
	if err != nil {
		d.log.WarnContext(ctx, "SRS address with a valid hash holds an unparsable address", "local", l, "domain", dom, "err", err)
		return Recipient{}, false, nil
	}
	fwd, err := d.tenants.BounceForwarder(ctx, mailboxID)
	switch {
	case errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled), errors.Is(err, tenants.ErrForbidden):
		d.log.InfoContext(ctx, "SRS bounce refused: the forwarding mailbox returns no bounces", "srs", srsAddr, "err", err)
		return Recipient{}, true, fmt.Errorf("%s: %w: %w", srsAddr, ErrSRSRefused, tenants.ErrDisabled)
	case err != nil:
		return Recipient{}, true, err
	}
	r := Recipient{SRSBounce: true, SRSAddress: srsAddr, SRSForwarder: *fwd}
	plan, err := d.tenants.ResolveRecipient(ctx, orig)
	switch {
	case errors.Is(err, tenants.ErrNotHosted):
		r.Remote = orig
		return r, true, nil
	case err != nil:
		return Recipient{}, true, err
	}
	r.Plan = plan
	return r, true, nil
}

// CheckQuota says whether a plan's mailbox can take a message of size bytes
// (0: unknown): ErrMailboxFull when it is full already, ErrTooBigForMailbox
// when the message would not fit. A mailbox that only forwards never is.
func (d *Deliverer) CheckQuota(ctx context.Context, plan *tenants.Plan, size int64) error {
	if !plan.Store || plan.Mailbox.QuotaBytes <= 0 {
		return nil
	}
	used, _, err := d.store.Usage(ctx, plan.Mailbox.MailboxID)
	if err != nil {
		return err
	}
	switch {
	case used >= plan.Mailbox.QuotaBytes:
		return ErrMailboxFull
	case size > 0 && used+size > plan.Mailbox.QuotaBytes:
		return ErrTooBigForMailbox
	}
	return nil
}

// Message is one message to deliver.
type Message struct {
	// From is the envelope sender; the zero Path is the null sender.
	From address.Path
	// Blob holds the message as it will be stored, trace headers
	// included; written, not committed. Deliver commits or aborts it.
	Blob blob.Pending
	// OwnReceived is the number of Received headers the caller put on
	// top, which the loop limit does not count.
	OwnReceived int
	Rcpts       []Recipient
	// Kind, MailboxID and DomainID go with the envelope of the remote
	// recipients in Rcpts (a submission's, a bounce's).
	Kind      string
	MailboxID int64
	DomainID  int64
	// Login is the submitting login of a submission: its recipients count
	// against the send limits in the delivery's transaction
	// (Limiter.Reserve, which checks them again there), refused with an
	// error wrapping ErrRateLimited.
	Login *tenants.Login
	// responder is the mailbox whose responder sends this reply to
	// another server: one send against its limits, counted like Login's.
	responder *RateAccount
	// Header is the parsed header, when the caller has it already.
	Header *Header
	// Remote is the client's IP address, for the limits of list
	// requests per source.
	Remote string
	// heldID is the held list post this message approves (Moderate):
	// distributed without the poster check, its row removed in the
	// delivery's transaction.
	heldID int64
	// AuthResults is the receiving server's Authentication-Results
	// field (mailsvc/msgauth), stored above the message for every local
	// recipient, part of the delivery prefix like Return-Path.
	AuthResults string
	// Quarantine files the local copies into Junk (the author domain's
	// DMARC policy asks so).
	Quarantine bool
	// Verdict is what the MX's checks (SPF, DKIM, DMARC) found; nil when
	// none ran. A list takes a post from an envelope sender only as far
	// as this or Login vouches for it (listPosterVouched).
	Verdict *msgauth.Verdict
}

// sendCount is what m counts against the send limits when it commits: a
// submission's recipients against its login, a responder's reply against
// its mailbox.
func (m *Message) sendCount() (RateAccount, int64, bool) {
	switch {
	case m.Login != nil:
		return LoginAccount(m.Login), int64(len(m.Rcpts)), true
	case m.responder != nil:
		return *m.responder, 1, true
	}
	return RateAccount{}, 0, false
}

// Result says what a delivery did.
type Result struct {
	Stored int // mailboxes the message was stored in
	Queued int // remote recipients queued
}

// Deliver delivers a message: every local store and every queued remote
// recipient in one transaction, then the responders. Its errors: ErrLoop,
// ErrMailboxFull, ErrNoQueue, and database or disk trouble, all but ErrLoop
// temporary. The blob is committed or aborted either way.
func (d *Deliverer) Deliver(ctx context.Context, m *Message) (*Result, error) {
	res, responders, err := d.deliver(ctx, m)
	if err != nil {
		return nil, err
	}
	for _, rp := range responders {
		d.respond(ctx, m, rp)
	}
	return res, nil
}

func (d *Deliverer) deliver(ctx context.Context, m *Message) (*Result, []*tenants.Plan, error) {
	handedOver := false // to store.Deliver, which commits or deletes the blob
	defer func() {
		if !handedOver {
			m.Blob.Abort()
		}
	}()
	h := m.Header
	if h == nil {
		h = ParseHeader(m.Blob.ReaderAt(), m.Blob.Size())
		m.Header = h
	}
	if n := h.Received - m.OwnReceived; n > d.maxReceived {
		return nil, nil, fmt.Errorf("%d Received headers, more than %d: %w", n, d.maxReceived, ErrLoop)
	}
	bounces, err := srsBounces(m)
	if err != nil {
		return nil, nil, err
	}
	x, err := d.expand(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	if x.rejection != nil {
		return nil, nil, x.rejection
	}
	lw, err := d.expandLists(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range x.reached {
		if h.DeliveredTo[strings.ToLower(a.String())] {
			return nil, nil, fmt.Errorf("Delivered-To already holds %s: %w", a, ErrLoop)
		}
	}
	if err := d.applyQuotas(ctx, x); err != nil {
		return nil, nil, err
	}
	envs := append(x.envelopes(m), lw.envs...)
	if len(envs) > 0 && d.queue == nil {
		return nil, nil, ErrNoQueue
	}
	if len(x.stores) == 0 && len(envs) == 0 && len(lw.stores) == 0 && len(lw.holds) == 0 && lw.any && m.heldID == 0 {
		// A list command, a bounce to a list, or a post to a list whose
		// members take no copy: done, nothing to keep.
		for _, f := range lw.after {
			f(ctx)
		}
		return &Result{}, nil, nil
	}
	if len(x.stores) == 0 && len(envs) == 0 && len(lw.stores) == 0 && len(lw.holds) == 0 && m.heldID == 0 && x.discarded {
		// Sieve scripts discarded every copy (RFC 5228 4.5): done.
		for _, f := range lw.after {
			f(ctx)
		}
		return &Result{}, nil, nil
	}
	if len(x.stores) == 0 && len(envs) == 0 && len(lw.stores) == 0 && len(lw.holds) == 0 && m.heldID == 0 {
		// Every recipient's copy was dropped (full forward targets):
		// refuse for now rather than accept into nowhere.
		return nil, nil, ErrMailboxFull
	}
	from := "<" + m.From.String() + ">"
	var rcpts []store.Rcpt
	for _, s := range x.stores {
		if s.MailboxID == tenants.SystemMailbox {
			// Postmaster mail nobody was named for (tenants.Plan.System).
			r := store.Rcpt{System: true, Prefix: "Return-Path: " + from + "\r\n"}
			if !s.Address.IsZero() {
				r.Prefix += "Delivered-To: " + s.Address.String() + "\r\n"
			}
			r.Prefix += m.AuthResults
			rcpts = append(rcpts, r)
			continue
		}
		copies := s.copies
		if copies == nil {
			copies = []sieveCopy{{}}
		}
		for _, c := range copies {
			r := store.Rcpt{MailboxID: s.MailboxID, Prefix: "Return-Path: " + from + "\r\nDelivered-To: " + s.Address.String() + "\r\n" + m.AuthResults,
				Flags: c.Flags}
			folder, err := d.sieveFolder(ctx, s.MailboxID, c.Folder)
			if err != nil {
				return nil, nil, err
			}
			r.Folder = folder
			if m.Quarantine && folder == "" {
				// The author domain's DMARC policy asks for Junk
				// where the script (if any) kept the message.
				r.Folder = "Junk"
			}
			rcpts = append(rcpts, r)
		}
	}
	if err := d.sign(ctx, m, envs); err != nil {
		return nil, nil, err
	}
	for _, s := range lw.stores {
		rcpts = append(rcpts, store.Rcpt{MailboxID: s.target.MailboxID, Prefix: s.prefix})
	}
	queued := 0
	handedOver = true
	sr, err := d.store.Deliver(ctx, &store.Delivery{
		Blob:     m.Blob,
		Rcpts:    rcpts,
		KeepBlob: len(envs) > 0 || len(lw.holds) > 0 || m.heldID != 0,
		Extra: func(t database.Tx, key string) error {
			tx := t.Gorm()
			queued = 0
			if err := lw.insertHeld(tx, key, d.now()); err != nil {
				return err
			}
			if m.heldID != 0 {
				r := tx.Where("id = ?", m.heldID).Delete(&heldRow{})
				if r.Error != nil {
					return fmt.Errorf("remove held post: %w", r.Error)
				}
				if r.RowsAffected != 1 {
					return fmt.Errorf("held post %d moderated already: %w", m.heldID, tenants.ErrBadToken)
				}
			}
			if len(envs) > 0 {
				batch := make([]queue.Envelope, len(envs))
				for i, e := range envs {
					batch[i] = e.Envelope
					batch[i].BlobKey = key
					queued += len(e.Rcpts)
				}
				if err := d.queue.EnqueueBatchTx(t, batch); err != nil {
					return fmt.Errorf("queue for %d envelopes: %w", len(batch), err)
				}
			}
			if d.limiter != nil {
				for _, b := range bounces {
					if err := d.limiter.ReserveBounce(t, srsAccount(b), b.SRSAddress); err != nil {
						return fmt.Errorf("count the bounce through %s: %w", b.SRSAddress, err)
					}
				}
				for _, f := range x.forwards {
					a := RateAccount{MailboxID: f.from.MailboxID, DomainID: f.from.DomainID, Address: f.from.Address}
					if err := d.limiter.Record(t, a, int64(len(f.to))); err != nil {
						return fmt.Errorf("count the forwards of %s: %w", f.from.Address, err)
					}
				}
			}
			if a, n, ok := m.sendCount(); ok && d.limiter != nil {
				return d.limiter.Reserve(t, a, n)
			}
			return nil
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("deliver: %w", err)
	}
	res := &Result{Queued: queued}
	for i, e := range sr.Errs {
		if e != nil {
			// Quotas are checked above and passed as unlimited, so this
			// can't happen; say so loudly if it ever does.
			d.log.ErrorContext(ctx, "store refused a recipient", "rcpt", i, "err", e)
			continue
		}
		res.Stored++
	}
	if len(envs) > 0 {
		d.queue.Kick()
	}
	for _, f := range lw.after {
		f(ctx)
	}
	return res, x.responders, nil
}

// sign puts the DKIM-Signature fields of each envelope's signing domain on
// top of its prefix: computed once per domain over the stored message, the
// same bytes the queue sends after the prefix. A domain whose keys can't be
// used fails the delivery (a temporary error): mail is not sent unsigned
// behind the domain's back.
func (d *Deliverer) sign(ctx context.Context, m *Message, envs []outbound) error {
	if d.dkim == nil {
		return nil
	}
	sigs := map[address.Domain]string{}
	for i := range envs {
		dom := envs[i].signer
		if dom == "" {
			continue
		}
		sig, ok := sigs[dom]
		if !ok {
			var err error
			sig, err = d.dkim.Sign(ctx, dom, io.NewSectionReader(m.Blob.ReaderAt(), 0, m.Blob.Size()))
			if err != nil {
				return fmt.Errorf("sign for %s: %w", dom, err)
			}
			sigs[dom] = sig
		}
		envs[i].Prefix = sig + envs[i].Prefix
	}
	return nil
}

// io.Reader helper for callers that hand a message body: copy at most max
// bytes into a new blob.
func (d *Deliverer) newBlob(ctx context.Context, body io.Reader, max int64) (blob.Pending, error) {
	p, err := d.store.Blobs().Create(ctx)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	n, err := io.Copy(p, io.LimitReader(body, max+1))
	if err != nil {
		p.Abort()
		return nil, fmt.Errorf("write blob: %w", err)
	}
	if n > max {
		p.Abort()
		return nil, fmt.Errorf("message over %d bytes: %w", max, store.ErrTooBig)
	}
	return p, nil
}

// sieveFolder is the folder a script's fileinto names, as stored: an
// existing folder or one of the default folders; any other name is INBOX
// ("", RFC 5228 4.1 allows that), as the script is not told.
func (d *Deliverer) sieveFolder(ctx context.Context, mailboxID int64, name string) (string, error) {
	if name == "" || store.ValidFolderName(name) != nil {
		return "", nil
	}
	f, err := d.store.Folder(ctx, mailboxID, name)
	switch {
	case err == nil:
		if f.Name == "INBOX" {
			return "", nil
		}
		return f.Name, nil
	case !errors.Is(err, store.ErrNoFolder):
		return "", fmt.Errorf("look up folder %q: %w", name, err)
	}
	for _, df := range store.DefaultFolders {
		if strings.EqualFold(df.Name, name) && df.Name != "INBOX" {
			return df.Name, nil
		}
	}
	d.log.InfoContext(ctx, "sieve fileinto a folder that does not exist; stored in INBOX", "folder", name)
	return "", nil
}

// CanQueue reports whether remote recipients can be taken.
func (d *Deliverer) CanQueue() bool { return d.queue != nil }
