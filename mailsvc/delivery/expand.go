package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// expansion is where one message goes: the mailboxes it is stored in, the
// remote recipients (the message's own, and remote forwards per forwarding
// mailbox), the responders to consider, and every mailbox address it
// reaches (for the Delivered-To loop check).
type expansion struct {
	stores     []stored
	remote     []string // the message's own remote recipients
	forwards   []remoteForward
	responders []*tenants.Plan // plans with a responder to consider
	reached    []address.Address
	// nodes are the mailboxes reached, by id: a store that can't take its
	// copy hands it back to the mailboxes that forwarded it (applyQuotas).
	nodes map[int64]*node
	// discarded: a Sieve script discarded a copy, so a delivery that
	// stores and sends nothing is done, not refused.
	discarded bool
	// rejection is a Sieve reject of the one envelope recipient.
	rejection *SieveRejection
}

type stored struct {
	tenants.Target
	depth int // 0: an envelope recipient's own mailbox; more: reached by forwards
	// copies are the folders a Sieve script filed into; nil: INBOX.
	copies []sieveCopy
}

// node is a mailbox the message reached.
type node struct {
	plan  *tenants.Plan
	depth int
	// rcpt is the address the mailbox was reached by, for a script's
	// envelope "to" (zero when reached by a forward).
	rcpt address.Address
	// parents are the mailboxes whose forwards reach this one, the one
	// that reached it first (one hop closer to the envelope) first.
	parents []int64
}

// remoteForward is a forwarding mailbox's remote forward addresses and the
// envelope sender they leave with.
type remoteForward struct {
	from   tenants.Target
	sender string
	to     []string
}

// Results of resolving a forward address.
const (
	fwdFailed = -1 // unknown or disabled here, or refused as a remote forward
	fwdRemote = 0  // forwarded to another server
)

// expand follows the recipients' plans: store where store mail is on,
// resolve forwards (local ones become plans themselves, up to the hop
// limit), and visit every mailbox once, so that a mailbox reached twice
// (two aliases, a forward back) stores one copy and forward loops end.
//
// A forward that can't take the message never loses it: a local target
// that is unknown or disabled (here) or full (applyQuotas), and remote
// forwards the mailbox may not send (send permission off, send limits
// reached, a sender SRS can't rewrite) leave the copy in the forwarding
// mailbox, whatever its store-mail switch says.
func (d *Deliverer) expand(ctx context.Context, m *Message) (*expansion, error) {
	x := &expansion{nodes: map[int64]*node{}}
	var work []int64
	seenRemote := map[string]bool{}
	for _, r := range m.Rcpts {
		switch {
		case r.Plan != nil:
			if _, ok := x.nodes[r.Plan.Mailbox.MailboxID]; !ok {
				x.nodes[r.Plan.Mailbox.MailboxID] = &node{plan: r.Plan, rcpt: r.Address}
				work = append(work, r.Plan.Mailbox.MailboxID)
			}
		case !r.Remote.IsZero():
			if k := r.Remote.String(); !seenRemote[k] {
				seenRemote[k] = true
				x.remote = append(x.remote, k)
			}
		}
		if !r.Address.IsZero() && r.Plan != nil {
			x.reached = append(x.reached, r.Address)
		}
	}
	resolved := map[string]int64{} // forward address: fwdFailed, fwdRemote or a mailbox id
	domainSends := map[int64]int64{}
	for len(work) > 0 {
		id := work[0]
		work = work[1:]
		n := x.nodes[id]
		p := n.plan
		log := d.log.With("mailbox", p.Mailbox.Address.String())
		if !p.Mailbox.Address.IsZero() {
			x.reached = append(x.reached, p.Mailbox.Address)
		}
		keep := p.Store
		forwarded := 0
		// A storing mailbox's Sieve script decides its copies and adds
		// its redirects to the forwards, which take them under the same
		// rules (send permission, limits, SRS, hop limit).
		var sv *sieveOutcome
		forwards := p.Forward
		redirect := map[string]bool{}
		if p.Store && !p.System {
			o, ran, err := d.runSieve(ctx, log, m, p, n.rcpt)
			if err != nil {
				return nil, fmt.Errorf("sieve of %s: %w", p.Mailbox.Address, err)
			}
			if ran {
				sv = o
				if o.rejected {
					if len(m.Rcpts) == 1 && n.depth == 0 && m.Kind == "" && !m.From.IsNull() {
						x.rejection = &SieveRejection{Reason: smtpReason(o.reject)}
						return x, nil
					}
					// Past the point of refusing at SMTP (other
					// recipients, a forward, a generated message):
					// kept rather than lost or answered to a
					// possibly forged sender.
					log.InfoContext(ctx, "sieve reject can't refuse this delivery; keeping the message")
					o.copies = []sieveCopy{{}}
				}
				keep = len(o.copies) > 0
				if o.discards() {
					x.discarded = true
				}
				forwards = append([]address.Address(nil), p.Forward...)
				for _, r := range o.redirects {
					if strings.EqualFold(r.String(), p.Mailbox.Address.String()) || strings.EqualFold(r.String(), n.rcpt.String()) {
						log.InfoContext(ctx, "sieve redirect to the mailbox itself kept instead", "redirect", r.String())
						keep = true
						continue
					}
					redirect[r.String()] = true
					forwards = append(forwards, r)
				}
			}
		}
		if len(forwards) > 0 && n.depth >= d.maxHops {
			log.WarnContext(ctx, "forward hop limit reached; keeping the message in the mailbox", "hops", n.depth)
			keep = true
		} else {
			var remote []string
			for _, f := range forwards {
				k := f.String()
				if r, ok := resolved[k]; ok {
					switch {
					case r == fwdFailed:
						keep = true
					case r > 0 && redirect[k]:
						// A redirect to a mailbox the message reached
						// already (a redirect loop): this one keeps it,
						// so that the loop loses nothing.
						keep = true
					case r > 0:
						// Reached already: one copy, with this mailbox as
						// another way back should it be full.
						x.nodes[r].addParent(id)
						forwarded++
					default:
						forwarded++
					}
					continue
				}
				fp, err := d.tenants.ResolveRecipient(ctx, f)
				switch {
				case errors.Is(err, tenants.ErrNotHosted):
					resolved[k] = fwdRemote
					remote = append(remote, k)
				case errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled):
					log.WarnContext(ctx, "forward target does not take mail; the forwarding mailbox keeps the message", "forward", k, "err", err)
					resolved[k] = fwdFailed
					keep = true
				case err != nil:
					return nil, fmt.Errorf("resolve forward %s of %s: %w", k, p.Mailbox.Address, err)
				case fp.List != nil:
					// A forward to a list would post as the
					// forwarding mailbox's sender; tenants refuses
					// such forwards, and one left over keeps its mail.
					log.WarnContext(ctx, "forward target is a list; the forwarding mailbox keeps the message", "forward", k)
					resolved[k] = fwdFailed
					keep = true
				default:
					tid := fp.Mailbox.MailboxID
					resolved[k] = tid
					if t, ok := x.nodes[tid]; ok && redirect[k] {
						log.InfoContext(ctx, "sieve redirect to a mailbox reached already; keeping the message", "redirect", k)
						keep = true
					} else if ok {
						t.addParent(id)
					} else {
						x.nodes[tid] = &node{plan: fp, depth: n.depth + 1, parents: []int64{id}}
						work = append(work, tid)
					}
					forwarded++
				}
			}
			if len(remote) > 0 {
				sender, ok, err := d.remoteForward(ctx, log, m, p, int64(len(remote)), domainSends)
				if err != nil {
					return nil, err
				}
				if !ok {
					// Refused: kept here. Another mailbox forwarding to
					// the same address may still send it under its own
					// permission and limits.
					for _, k := range remote {
						delete(resolved, k)
					}
					keep = true
				} else {
					x.forwards = append(x.forwards, remoteForward{from: p.Mailbox, sender: sender, to: remote})
					forwarded += len(remote)
				}
			}
		}
		if !keep && forwarded == 0 && !(sv != nil && sv.discards()) {
			// Store mail is off and no forward took the message:
			// keep it here rather than lose it.
			log.WarnContext(ctx, "no forward of a store-mail-off mailbox works; keeping the message")
			keep = true
		}
		if keep {
			st := stored{Target: p.Mailbox, depth: n.depth}
			if sv != nil && len(sv.copies) > 0 {
				st.copies = sv.copies
			}
			x.stores = append(x.stores, st)
		}
		if p.Respond != nil {
			x.responders = append(x.responders, p)
		}
	}
	return x, nil
}

func (n *node) addParent(id int64) {
	for _, p := range n.parents {
		if p == id {
			return
		}
	}
	n.parents = append(n.parents, id)
}

// remoteForward decides whether mailbox p may forward the message m to
// rcpts remote addresses, and with which envelope sender; ok is false,
// logged, when it may not, and the caller keeps the copy in p.
//
// A remote forward is mail this server sends on p's behalf, to addresses
// p's owner chose, for anyone who writes to p: without bounds one mailbox
// turns each message received into as many sent. So it needs p's send
// permission and counts against p's (and its domain's) send limits, as a
// submission from p would (the count is recorded in the delivery's
// transaction). domainSends holds this message's sends per domain so far.
func (d *Deliverer) remoteForward(ctx context.Context, log *slog.Logger, m *Message, p *tenants.Plan, rcpts int64, domainSends map[int64]int64) (string, bool, error) {
	if !p.MaySend {
		log.WarnContext(ctx, "mailbox may not send; its remote forwards are kept in the mailbox", "forwards", rcpts)
		return "", false, nil
	}
	sender, ok := forwardSender(m.From, p.Mailbox, d.srs)
	if !ok {
		log.WarnContext(ctx, "the sender can't be rewritten for a remote forward; the message is kept in the mailbox", "sender", m.From.String())
		return "", false, nil
	}
	if d.limiter != nil {
		a := RateAccount{MailboxID: p.Mailbox.MailboxID, DomainID: p.Mailbox.DomainID, Address: p.Mailbox.Address}
		err := d.limiter.check(ctx, log, a, "", rcpts, domainSends[a.DomainID]+rcpts, auditForwardLimit,
			"its remote forwards are kept in the mailbox instead")
		switch {
		case errors.Is(err, ErrRateLimited):
			return "", false, nil
		case err != nil:
			return "", false, fmt.Errorf("remote forwards of %s: %w", p.Mailbox.Address, err)
		}
		domainSends[a.DomainID] += rcpts
	}
	return sender, true, nil
}

// maxSRSLocalpart is the longest SRS local part a forward leaves with: the
// outbound queue takes SRS senders past RFC 5321's 64 octets up to this
// (mailsvc/queue/enqueue.go), as a receiver may (RFC 5321 4.5.3.1).
const maxSRSLocalpart = 256

// forwardSender is the envelope sender of a remote forward by mailbox fwd:
// the null sender stays null; any other is rewritten with SRS (when there
// is an SRS) under fwd's domain and id, a sender of fwd's own domain too,
// since it may be forged by anyone writing to fwd from outside, and must
// not leave here passing SPF and aligned for that domain. ok is false when
// it can't be rewritten (a quoted local part or an address literal can't
// be put inside another local part, or the result would be longer than
// the queue takes), and the message then stays in fwd.
func forwardSender(from address.Path, fwd tenants.Target, srs *SRS) (string, bool) {
	s := from.String()
	if srs == nil || from.IsNull() {
		return s, true
	}
	i := strings.LastIndexByte(s, '@')
	if from.DomainLiteral != "" || i < 0 {
		return "", false
	}
	local, dom := s[:i], s[i+1:]
	if strings.HasPrefix(local, `"`) {
		return "", false
	}
	r := srs.Forward(local, dom, fwd.Address.Domain.String(), fwd.MailboxID)
	if strings.LastIndexByte(r, '@') > maxSRSLocalpart {
		return "", false
	}
	return r, true
}

// applyQuotas hands the copies a full mailbox can't take back to the
// mailboxes that forwarded them. A mailbox is full once its usage reaches
// its quota; a message that finds it below takes it past the quota (one
// message of grace, as Dovecot's quota_grace), so that a recipient
// accepted at RCPT is not refused after DATA for the size of the message.
// A full envelope recipient's mailbox fails the delivery with
// ErrMailboxFull (temporary: it was not full at RCPT, or the message must
// wait in the sender's queue rather than be lost); a full mailbox reached
// by a forward leaves its copy in the mailboxes that forward to it, logged,
// whatever their store-mail switch.
func (d *Deliverer) applyQuotas(ctx context.Context, x *expansion) error {
	var kept []stored
	done := map[int64]bool{} // decided, or being decided
	var place func(s stored) error
	place = func(s stored) error {
		if done[s.MailboxID] {
			return nil
		}
		done[s.MailboxID] = true
		if s.QuotaBytes > 0 {
			used, _, err := d.store.Usage(ctx, s.MailboxID)
			if err != nil {
				return err
			}
			if used >= s.QuotaBytes {
				if s.depth == 0 {
					return fmt.Errorf("%s: %w", s.Address, ErrMailboxFull)
				}
				n := x.nodes[s.MailboxID]
				d.log.WarnContext(ctx, "forward target is full; the forwarding mailbox keeps the message", "mailbox", s.Address.String())
				for _, pid := range n.parents {
					pn := x.nodes[pid]
					if err := place(stored{Target: pn.plan.Mailbox, depth: pn.depth}); err != nil {
						return err
					}
				}
				return nil
			}
		}
		kept = append(kept, s)
		return nil
	}
	for _, s := range x.stores {
		if err := place(s); err != nil {
			return err
		}
	}
	x.stores = kept
	return nil
}

// envelopes are the outbound envelopes: the message's remote recipients
// with its own sender, and each forwarding mailbox's remote forwards with
// the sender rewritten by SRS, a Delivered-To naming the forwarding
// mailbox (so that the message, should it come back, is seen to loop) and
// our Authentication-Results, telling the next server what we found.
//
// A remote forward that fails for good is returned, as RFC 5321 3.6.3 asks
// of a relay, to its reverse-path: the SRS address, which our MX (or the
// queue's local delivery) reverses, for the null sender only, to the
// original sender, as Postfix with postsrsd does. That sender may be
// forged (backscatter), which is bounded by the forwards' send limits and
// by what an SRS address takes (bounce.go). Postfix sends the postmaster no copy
// of such bounces by default (notify_classes without "bounce"), and only
// the header with it; Postdesk's postmaster copy of the DSN is the queue's
// (mailsvc/queue, finish.go), which leaves forwards out and returns only
// the header.
//
// Each envelope comes with the domain whose DKIM keys sign it (outbound
// envelope): a message of our own (submission, responder) the author
// domain's, a forward the forwarding mailbox's, as a forwarding provider
// signs what it sends on; mail from elsewhere sent on as is (SRS bounces)
// none.
func (x *expansion) envelopes(m *Message) []outbound {
	var out []outbound
	if len(x.remote) > 0 {
		kind := m.Kind
		var signer address.Domain
		if kind == "" {
			// Remote recipients of received mail: SRS bounces sent on.
			kind = KindForward
		} else {
			signer = authorDomain(m.Header)
		}
		out = append(out, outbound{Envelope: queue.Envelope{From: m.From.String(), Rcpts: x.remote, MailboxID: m.MailboxID, DomainID: m.DomainID, Kind: kind},
			signer: signer})
	}
	for _, f := range x.forwards {
		out = append(out, outbound{Envelope: queue.Envelope{From: f.sender, Rcpts: f.to, DomainID: f.from.DomainID, Kind: KindForward,
			Prefix: "Delivered-To: " + f.from.Address.String() + "\r\n" + m.AuthResults}, signer: f.from.Address.Domain})
	}
	return out
}

// outbound is an envelope for the queue and the domain that signs it.
type outbound struct {
	queue.Envelope
	signer address.Domain
}

// authorDomain is the domain of a header's one From address, or "".
func authorDomain(h *Header) address.Domain {
	if h == nil {
		return ""
	}
	froms := h.Fields.Values("From")
	if len(froms) != 1 {
		return ""
	}
	list, err := mail.ParseAddressList(froms[0])
	if err != nil || len(list) != 1 {
		return ""
	}
	a, err := address.ParseAddress(list[0].Address)
	if err != nil {
		return ""
	}
	return a.Domain
}
