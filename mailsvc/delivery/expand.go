package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
}

type stored struct {
	tenants.Target
	depth int // 0: an envelope recipient's own mailbox; more: reached by forwards
}

// remoteForward is a forwarding mailbox's remote forward addresses.
type remoteForward struct {
	from tenants.Target
	to   []string
}

type planAt struct {
	plan  *tenants.Plan
	depth int
}

// expand follows the recipients' plans: store where store mail is on,
// resolve forwards (local ones become plans themselves, up to the hop
// limit), and visit every mailbox once, so that a mailbox reached twice
// (two aliases, a forward back) stores one copy and forward loops end.
func (d *Deliverer) expand(ctx context.Context, m *Message) (*expansion, error) {
	x := &expansion{}
	var work []planAt
	seenRemote := map[string]bool{}
	for _, r := range m.Rcpts {
		switch {
		case r.Plan != nil:
			work = append(work, planAt{r.Plan, 0})
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
	visited := map[int64]bool{}
	resolved := map[string]bool{}
	for len(work) > 0 {
		it := work[0]
		work = work[1:]
		p := it.plan
		if visited[p.Mailbox.MailboxID] {
			continue
		}
		visited[p.Mailbox.MailboxID] = true
		x.reached = append(x.reached, p.Mailbox.Address)
		keep := p.Store
		forwarded := 0
		if len(p.Forward) > 0 && it.depth >= d.maxHops {
			d.log.WarnContext(ctx, "forward hop limit reached; keeping the message in the mailbox", "mailbox", p.Mailbox.Address.String(), "hops", it.depth)
			keep = true
		} else {
			var remote []string
			for _, f := range p.Forward {
				k := f.String()
				if resolved[k] {
					forwarded++
					continue
				}
				resolved[k] = true
				fp, err := d.tenants.ResolveRecipient(ctx, f)
				switch {
				case errors.Is(err, tenants.ErrNotHosted):
					remote = append(remote, k)
					forwarded++
				case errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled):
					d.log.WarnContext(ctx, "forward target does not take mail; skipped", "mailbox", p.Mailbox.Address.String(), "forward", k, "err", err)
				case err != nil:
					return nil, fmt.Errorf("resolve forward %s of %s: %w", k, p.Mailbox.Address, err)
				default:
					work = append(work, planAt{fp, it.depth + 1})
					forwarded++
				}
			}
			if len(remote) > 0 {
				x.forwards = append(x.forwards, remoteForward{from: p.Mailbox, to: remote})
			}
		}
		if !keep && forwarded == 0 {
			// Store mail is off and no forward took the message:
			// keep it here rather than lose it.
			d.log.WarnContext(ctx, "no forward of a store-mail-off mailbox works; keeping the message", "mailbox", p.Mailbox.Address.String())
			keep = true
		}
		if keep {
			x.stores = append(x.stores, stored{Target: p.Mailbox, depth: it.depth})
		}
		if p.Respond != nil {
			x.responders = append(x.responders, p)
		}
	}
	return x, nil
}

// applyQuotas drops the copies a full mailbox can't take. A mailbox is full
// once its usage reaches its quota; a message that finds it below takes it
// past the quota (one message of grace, as Dovecot's quota_grace), so that a
// recipient accepted at RCPT is not refused after DATA for the size of the
// message. A full envelope recipient's mailbox fails the delivery with
// ErrMailboxFull (temporary: it was not full at RCPT); a full mailbox
// reached by a forward only loses its copy, logged.
func (d *Deliverer) applyQuotas(ctx context.Context, x *expansion) error {
	kept := x.stores[:0]
	for _, s := range x.stores {
		if s.QuotaBytes > 0 {
			used, _, err := d.store.Usage(ctx, s.MailboxID)
			if err != nil {
				return err
			}
			if used >= s.QuotaBytes {
				if s.depth == 0 {
					return fmt.Errorf("%s: %w", s.Address, ErrMailboxFull)
				}
				d.log.WarnContext(ctx, "forward target is full; its copy is dropped", "mailbox", s.Address.String())
				continue
			}
		}
		kept = append(kept, s)
	}
	x.stores = kept
	return nil
}

// envelopes are the outbound envelopes: the message's remote recipients
// with its own sender, and each forwarding mailbox's remote forwards with
// the sender rewritten by SRS and a Delivered-To naming the forwarding
// mailbox (so that the message, should it come back, is seen to loop).
func (x *expansion) envelopes(m *Message, srs *SRS) []Outbound {
	var out []Outbound
	from := m.From.String()
	if len(x.remote) > 0 {
		kind := m.Kind
		if kind == "" {
			// Remote recipients of received mail: SRS bounces sent on.
			kind = KindForward
		}
		out = append(out, Outbound{From: from, Rcpts: x.remote, MailboxID: m.MailboxID, DomainID: m.DomainID, Kind: kind})
	}
	for _, f := range x.forwards {
		sender := from
		// A sender in the forwarding mailbox's own domain passes SPF as
		// it is; a quoted local part can't be put inside another one.
		local, dom, _ := strings.Cut(from, "@")
		if i := strings.LastIndexByte(from, '@'); i >= 0 {
			local, dom = from[:i], from[i+1:]
		}
		if srs != nil && m.From.DomainLiteral == "" && !m.From.IsNull() && !strings.HasPrefix(local, `"`) &&
			!strings.EqualFold(dom, string(f.from.Address.Domain)) {
			sender = srs.Forward(local, dom, string(f.from.Address.Domain))
		}
		out = append(out, Outbound{From: sender, Rcpts: f.to, DomainID: f.from.DomainID, Kind: KindForward,
			Prefix: "Delivered-To: " + f.from.Address.String() + "\r\n"})
	}
	return out
}
