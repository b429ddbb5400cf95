package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"time"

	"github.com/postdesk/postdesk/mailsvc/dsn"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// Mailing lists (tenants/list.go) at delivery.
//
// A post is stored once: local members get the message's blob with their
// own prefix rows, remote members one queued envelope each (VERP: the
// envelope sender LIST-bounces+ID-MAC@ names the member, so a bounce says
// whom it is about), all in the post's one delivery transaction, before the
// 250. The RFC 2369 and RFC 2919 header fields (List-Id, List-Post,
// List-Unsubscribe with the member's own RFC 8058 one-click link) go in the
// per-member prefix, so the body is never copied.
//
// What the list's addresses make us send, and to whom:
//   - LIST@: members' copies, only for a poster the list takes
//     (tenants.ListPoster: checked at RCPT); never a message that carries
//     the list's own List-Id or X-Loop back (ErrLoop), nor one from the null
//     sender.
//   - LIST-subscribe@, LIST-unsubscribe@: one confirmation request to the
//     envelope sender only, within tenants' limits per address and source,
//     carrying nothing of the request (no subject, no body).
//   - LIST-confirm+TOKEN@: nothing; the token's change happens.
//   - LIST-bounces+VERP@: delivery reports only, from the null sender,
//     counted against the member; relayed nowhere. A member disabled by
//     bounces is reported to the owners.
//   - LIST-owner@: the message to the list's owners, with the null sender
//     (so that nothing bounces back to whoever wrote it).

// ErrNotListPoster: the sender may not post to the list (550 5.7.1 at RCPT).
var ErrNotListPoster = errors.New("sender may not post to this list")

// checkList checks a list recipient at RCPT: who may send to each of the
// list's addresses.
func (d *Deliverer) checkList(ctx context.Context, r Recipient, from address.Path) error {
	lt := r.List
	null := from.IsNull() || from.Address.IsZero()
	switch lt.Role {
	case tenants.ListRolePost:
		if null {
			return fmt.Errorf("%s: null sender: %w", lt.Address, ErrNotListPoster)
		}
		dec, err := d.tenants.ListPoster(ctx, &lt.List, from.Address)
		if err != nil {
			return err
		}
		if dec == tenants.PostRefuse {
			return fmt.Errorf("%s to %s: %w", from.Address, lt.Address, ErrNotListPoster)
		}
	case tenants.ListRoleBounces:
		// Delivery reports only (RFC 5321 4.5.5): for anything else the
		// address does not exist.
		if !null {
			return fmt.Errorf("%s: not a bounce: %w", r.Address, tenants.ErrNoSuchUser)
		}
	case tenants.ListRoleSubscribe, tenants.ListRoleUnsubscribe, tenants.ListRoleConfirm:
		if null {
			return fmt.Errorf("%s: null sender: %w", r.Address, tenants.ErrNoSuchUser)
		}
	}
	if !d.CanQueue() {
		return fmt.Errorf("%s: %w", r.Address, ErrNoQueue)
	}
	return nil
}

// listStore is a local member's copy of a post.
type listStore struct {
	target tenants.Target
	prefix string
}

// listWork is what the list recipients of a message make delivery do:
// copies stored and queued in the message's transaction, and notices sent
// after it commits.
type listWork struct {
	stores []listStore
	envs   []outbound // signed by the list's domain
	holds  []*heldPost
	after  []func(context.Context)
	any    bool // the message had list recipients
}

// expandLists handles the list recipients of m.
func (d *Deliverer) expandLists(ctx context.Context, m *Message) (*listWork, error) {
	w := &listWork{}
	seen := map[string]bool{}
	for _, r := range m.Rcpts {
		if r.List == nil {
			continue
		}
		w.any = true
		lt := r.List
		key := strings.ToLower(r.Address.String())
		if seen[key] {
			continue
		}
		seen[key] = true
		log := d.log.With("list", lt.Address.String(), "role", lt.Role, "sender", m.From.String())
		switch lt.Role {
		case tenants.ListRolePost:
			if m.heldID == 0 {
				// Checked at RCPT already; again here for mail that
				// comes another way (a responder's reply, a local
				// notice) and for a membership changed since.
				dec, err := d.tenants.ListPoster(ctx, &lt.List, m.From.Address)
				if err != nil {
					return nil, err
				}
				if dec == tenants.PostAccept {
					ok, why, err := d.listPosterVouched(ctx, m, lt)
					if err != nil {
						return nil, err
					}
					if !ok {
						log.InfoContext(ctx, "list post held: the sender is not authenticated", "why", why)
						dec = tenants.PostHold
					}
				}
				switch dec {
				case tenants.PostRefuse:
					log.InfoContext(ctx, "post from a sender the list does not take; dropped")
					continue
				case tenants.PostHold:
					if err := d.holdPost(ctx, m, lt, w); err != nil {
						return nil, err
					}
					continue
				}
			}
			if err := d.expandPost(ctx, m, lt, w); err != nil {
				return nil, err
			}
		case tenants.ListRoleBounces:
			if err := d.listBounce(ctx, m, lt, w); err != nil {
				return nil, err
			}
		case tenants.ListRoleSubscribe, tenants.ListRoleUnsubscribe:
			if m.From.IsNull() || m.From.Address.IsZero() || autoSubmitted(m.Header) {
				log.InfoContext(ctx, "list command from an automated sender ignored")
				continue
			}
			token, err := d.tenants.RequestListChange(ctx, &lt.List, m.From.Address, lt.Role, m.Remote)
			switch {
			case errors.Is(err, tenants.ErrListRequestLimit):
				log.WarnContext(ctx, "list request refused: limit", "err", err)
				continue
			case err != nil:
				return nil, err
			case token == "":
				log.InfoContext(ctx, "list request: nothing to confirm")
				continue
			}
			to, action := m.From.Address, lt.Role
			w.after = append(w.after, func(ctx context.Context) { d.sendConfirmation(ctx, lt, to, action, token) })
		case tenants.ListRoleConfirm:
			ch, err := d.tenants.ConfirmListRequest(ctx, lt.Arg, m.Remote)
			switch {
			case errors.Is(err, tenants.ErrBadToken):
				log.InfoContext(ctx, "list confirmation with an unknown or used token")
			case err != nil:
				return nil, err
			default:
				log.InfoContext(ctx, "list change confirmed by mail", "address", ch.Address, "action", ch.Action)
			}
		case tenants.ListRoleOwner:
			if err := d.toOwners(ctx, m, lt, w); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// listPosterVouched says whether a post the list takes from its envelope
// sender (tenants.ListPoster) is known to come from that sender, since
// anyone can write any MAIL FROM: a sender hosted here must have logged in
// (submission), or the MX's checks must vouch for its domain
// (msgauth.Verdict.Vouches: aligned SPF or DKIM); so must they for a remote
// sender to an announce or moderated list. A remote member's post to a
// discussion list needs nothing more (its domain may publish nothing), nor
// does a hosted member's to one when its domain publishes no SPF record
// and no DMARC policy (msgauth.Verdict.Unchecked): such a domain can't be
// told from a forger by anyone, and the lists contract (acceptance check)
// has members of an unpublished hosted domain post over the MX. The DNS
// page asks every hosted domain to publish SPF and DMARC, after which its
// forged posts are held. A post that fails is held for the moderators,
// not lost.
func (d *Deliverer) listPosterVouched(ctx context.Context, m *Message, lt *tenants.ListTarget) (bool, string, error) {
	if m.Login != nil {
		// Submission checked the sender against the login (SendAs).
		return true, "", nil
	}
	hosted, err := d.hosted(ctx, m.From.Address.Domain)
	if err != nil {
		return false, "", err
	}
	if !hosted && lt.List.Kind == tenants.ListDiscussion {
		return true, "", nil
	}
	if m.Verdict != nil && m.Verdict.Vouches(m.From.Address.Domain.String()) {
		return true, "", nil
	}
	if hosted && lt.List.Kind == tenants.ListDiscussion && m.Verdict != nil && m.Verdict.Unchecked(m.From.Address.Domain.String()) {
		return true, "", nil
	}
	if hosted {
		return false, "sender hosted here, not logged in, no aligned SPF or DKIM pass", nil
	}
	return false, "no aligned SPF or DKIM pass", nil
}

func autoSubmitted(h *Header) bool {
	v := strings.ToLower(strings.TrimSpace(h.Fields.Get("Auto-Submitted")))
	if v != "" && v != "no" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Fields.Get("Precedence"))) {
	case "bulk", "list", "junk":
		return true
	}
	return false
}

// listID is the RFC 2919 List-Id of a list: LOCAL.DOMAIN.
func listID(lt *tenants.ListTarget) string {
	return string(lt.Address.Local) + "." + lt.Address.Domain.String()
}

// expandPost adds a post's copies for the list's members to w.
func (d *Deliverer) expandPost(ctx context.Context, m *Message, lt *tenants.ListTarget, w *listWork) error {
	id := listID(lt)
	for _, v := range m.Header.Fields.Values("List-Id") {
		if strings.Contains(strings.ToLower(v), "<"+id+">") {
			return fmt.Errorf("the post carries the list's own List-Id %s: %w", id, ErrLoop)
		}
	}
	for _, v := range m.Header.Fields.Values("X-Loop") {
		if strings.EqualFold(strings.TrimSpace(v), lt.Address.String()) {
			return fmt.Errorf("the post carries the list's own X-Loop: %w", ErrLoop)
		}
	}
	members, err := d.tenants.ListRecipients(ctx, &lt.List)
	if err != nil {
		return err
	}
	if arch, err := d.tenants.ListArchive(ctx, &lt.List); err != nil {
		return err
	} else if arch != nil {
		// The archive keeps every post, past its quota too (one message
		// of grace as any mailbox, then refused: the post still goes out).
		if err := d.CheckQuota(ctx, &tenants.Plan{Mailbox: *arch, Store: true}, 0); err == nil {
			w.stores = append(w.stores, listStore{target: *arch,
				prefix: "Delivered-To: " + arch.Address.String() + "\r\nList-Id: <" + id + ">\r\n"})
		} else {
			d.log.WarnContext(ctx, "list archive full; post not archived", "list", lt.Address.String(), "archive", arch.Address.String())
		}
	}
	// The members' addresses, then their mailboxes in a few queries
	// (tenants.ListMemberTargets); only those it leaves out are
	// resolved one by one.
	addrs := make([]address.Address, len(members))
	ok := make([]bool, len(members))
	for i := range members {
		a, err := address.ParseAddress(members[i].Address)
		if err != nil {
			d.log.WarnContext(ctx, "list member address unparsable; skipped", "list", lt.Address.String(), "member", members[i].Address)
			continue
		}
		addrs[i], ok[i] = a, true
	}
	var parsed []address.Address
	for i, a := range addrs {
		if ok[i] {
			parsed = append(parsed, a)
		}
	}
	hosted, targets, err := d.tenants.ListMemberTargets(ctx, parsed)
	if err != nil {
		return err
	}
	var quotaIDs []int64
	for _, t := range targets {
		if t.QuotaBytes > 0 {
			quotaIDs = append(quotaIDs, t.MailboxID)
		}
	}
	used, err := d.store.Usages(ctx, quotaIDs)
	if err != nil {
		return err
	}
	for i := range members {
		if !ok[i] {
			continue
		}
		mb, a := &members[i], addrs[i]
		verp, err := d.tenants.VERPLocal(ctx, &lt.List, mb)
		if err != nil {
			return err
		}
		sender := verp + "@" + lt.Address.Domain.String()
		head, err := d.listHeader(ctx, lt, mb.Address)
		if err != nil {
			return err
		}
		if !hosted[a.Domain] {
			w.envs = append(w.envs, outbound{Envelope: queue.Envelope{From: sender, Rcpts: []string{a.String()}, DomainID: lt.List.DomainID,
				Kind: queue.KindList, Prefix: head}, signer: lt.Address.Domain})
			continue
		}
		target, found := targets[a.String()]
		if found {
			if target.QuotaBytes > 0 && used[target.MailboxID] >= target.QuotaBytes {
				d.log.InfoContext(ctx, "list member's mailbox is full; skipped", "list", lt.Address.String(), "member", mb.Address)
				continue
			}
		} else {
			plan, err := d.tenants.ResolveRecipient(ctx, a)
			switch {
			case errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled), errors.Is(err, tenants.ErrNotHosted):
				d.log.InfoContext(ctx, "list member takes no mail here; skipped", "list", lt.Address.String(), "member", mb.Address, "err", err)
				continue
			case err != nil:
				return err
			case plan.List != nil || plan.System:
				continue
			}
			if err := d.CheckQuota(ctx, plan, 0); err != nil {
				d.log.InfoContext(ctx, "list member's mailbox is full; skipped", "list", lt.Address.String(), "member", mb.Address)
				continue
			}
			target = plan.Mailbox
		}
		// A member's own mailbox takes the copy; its forwards and
		// responder are not followed for list mail (RFC 3834 2: no
		// automatic answers to lists).
		w.stores = append(w.stores, listStore{target: target,
			prefix: "Return-Path: <" + sender + ">\r\nDelivered-To: " + target.Address.String() + "\r\n" + head})
	}
	return nil
}

// listHeader is the header fields a member's copy gets on top: RFC 2919
// List-Id, RFC 2369 List-*, RFC 8058 List-Unsubscribe-Post with the
// member's signed one-click link (when there is a public URL), Precedence
// and X-Loop.
func (d *Deliverer) listHeader(ctx context.Context, lt *tenants.ListTarget, member string) (string, error) {
	la := lt.Address.String()
	dom := lt.Address.Domain.String()
	local := string(lt.Address.Local)
	var b strings.Builder
	b.WriteString("List-Id: <" + listID(lt) + ">\r\n")
	unsub := "<mailto:" + local + "-unsubscribe@" + dom + ">"
	oneClick := false
	if d.publicURL != "" {
		tok, err := d.tenants.UnsubscribeToken(ctx, &lt.List, member)
		if err != nil {
			return "", err
		}
		unsub = "<" + d.publicURL + "/lists/u/" + url.PathEscape(tok) + ">,\r\n\t" + unsub
		oneClick = true
	}
	b.WriteString("List-Unsubscribe: " + unsub + "\r\n")
	if oneClick {
		b.WriteString("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
	}
	b.WriteString("List-Subscribe: <mailto:" + local + "-subscribe@" + dom + ">\r\n")
	if lt.List.Kind == tenants.ListAnnounce {
		b.WriteString("List-Post: NO\r\n")
	} else {
		b.WriteString("List-Post: <mailto:" + la + ">\r\n")
	}
	b.WriteString("List-Owner: <mailto:" + local + "-owner@" + dom + ">\r\n")
	b.WriteString("Precedence: list\r\nX-Loop: " + la + "\r\n")
	return b.String(), nil
}

// listBounce counts a delivery report to a VERP address against the member
// it names. Only a hard failure counts (a DSN whose recipients all have a
// 5.x.x status, or a classic bounce); a delay or a report that names no
// failure is taken and dropped. Nothing is stored or relayed.
func (d *Deliverer) listBounce(ctx context.Context, m *Message, lt *tenants.ListTarget, w *listWork) error {
	log := d.log.With("list", lt.Address.String(), "verp", lt.Arg)
	if size := m.Blob.Size(); size > MaxSRSBounceSize {
		return fmt.Errorf("%d octets: %w", size, ErrBounceTooBig)
	}
	msg := io.NewSectionReader(m.Blob.ReaderAt(), 0, m.Blob.Size())
	if why := isBounce(m.Header, msg); why != "" && m.Kind != KindDSN {
		return fmt.Errorf("%s: %w", why, ErrNotABounce)
	}
	if strings.Contains(strings.ToLower(m.Header.Fields.Get("Content-Type")), "multipart/report") {
		rep, err := dsn.Parse(io.NewSectionReader(m.Blob.ReaderAt(), 0, m.Blob.Size()))
		if err == nil {
			hard := len(rep.Recipients) > 0
			for _, r := range rep.Recipients {
				if !strings.HasPrefix(r.Status, "5") {
					hard = false
				}
			}
			if !hard {
				log.InfoContext(ctx, "list bounce: not a hard failure; not counted")
				return nil
			}
		}
	}
	res, ok, err := d.tenants.RecordListBounce(ctx, &lt.List, lt.Arg)
	if err != nil {
		return err
	}
	if !ok {
		log.InfoContext(ctx, "list bounce names no member; dropped")
		return nil
	}
	log.InfoContext(ctx, "list bounce counted", "member", res.Member, "disabled", res.Disabled)
	if res.Disabled && len(res.Owners) > 0 {
		w.after = append(w.after, func(ctx context.Context) {
			text := "The list " + lt.Address.String() + " no longer sends to " + res.Member +
				": its mail bounced too often.\r\nA postmaster or owner can enable it again.\r\n"
			d.sendListNotice(ctx, lt, res.Owners, "Member disabled by bounces: "+res.Member, "", text)
		})
	}
	return nil
}

// toOwners passes a message to LIST-owner@ on to the list's owners: local
// ones stored, remote ones queued with the null sender.
func (d *Deliverer) toOwners(ctx context.Context, m *Message, lt *tenants.ListTarget, w *listWork) error {
	owners, err := d.tenants.ListOwners(ctx, &lt.List)
	if err != nil {
		return err
	}
	var remote []string
	for _, o := range owners {
		a, err := address.ParseAddress(o)
		if err != nil {
			continue
		}
		plan, err := d.tenants.ResolveRecipient(ctx, a)
		switch {
		case errors.Is(err, tenants.ErrNotHosted):
			remote = append(remote, a.String())
		case err != nil || plan.List != nil || plan.System:
			continue
		default:
			w.stores = append(w.stores, listStore{target: plan.Mailbox,
				prefix: "Return-Path: <" + m.From.String() + ">\r\nDelivered-To: " + plan.Mailbox.Address.String() + "\r\n"})
		}
	}
	if len(remote) > 0 {
		w.envs = append(w.envs, outbound{Envelope: queue.Envelope{From: "", Rcpts: remote, DomainID: lt.List.DomainID, Kind: queue.KindList,
			Prefix: "Delivered-To: " + string(lt.Address.Local) + "-owner@" + lt.Address.Domain.String() + "\r\n"}, signer: lt.Address.Domain})
	}
	return nil
}

// sendConfirmation mails the confirmation request of a subscription or
// unsubscription to the address it is for, and to no other: answering it
// (a reply to LIST-confirm+TOKEN@, or the link) makes the change. It says
// what was asked and nothing the requester wrote.
func (d *Deliverer) sendConfirmation(ctx context.Context, lt *tenants.ListTarget, to address.Address, action, token string) {
	la := lt.Address.String()
	what := "subscribe " + to.String() + " to"
	if action == tenants.ListRoleUnsubscribe {
		what = "unsubscribe " + to.String() + " from"
	}
	confirm := string(lt.Address.Local) + "-" + tenants.ListRoleConfirm + "+" + token + "@" + lt.Address.Domain.String()
	var text strings.Builder
	text.WriteString("Someone asked to " + what + " the mailing list " + la + ".\r\n\r\n")
	text.WriteString("To confirm, reply to this message.\r\n")
	if d.publicURL != "" {
		text.WriteString("Or open this link: " + d.publicURL + "/lists/confirm/" + token + "\r\n")
	}
	text.WriteString("\r\nIf you did not ask for this, ignore this message: nothing changes.\r\n")
	d.sendListNotice(ctx, lt, []string{to.String()}, "Confirm: "+action+" "+la, confirm, text.String())
}

// sendListNotice delivers a notice of the list's to rcpts, with the null
// sender and Auto-Submitted, so that nothing answers it. Failures are
// logged: the change that made it is done.
func (d *Deliverer) sendListNotice(ctx context.Context, lt *tenants.ListTarget, rcpts []string, subject, replyTo, text string) {
	log := d.log.With("list", lt.Address.String())
	owner := string(lt.Address.Local) + "-owner@" + lt.Address.Domain.String()
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", mime.QEncoding.Encode("utf-8", lt.Address.String()+" list")+" <"+owner+">")
	hdr("To", "<"+strings.Join(rcpts, ">, <")+">")
	if replyTo != "" {
		hdr("Reply-To", "<"+replyTo+">")
	}
	hdr("Subject", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	hdr("Date", d.now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomID()+"@"+d.hostname+">")
	hdr("Auto-Submitted", "auto-generated")
	hdr("X-Loop", lt.Address.String())
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	b.WriteString("\r\n" + text)
	var rs []Recipient
	for _, to := range rcpts {
		p, err := address.ParseForwardPath(to)
		if err != nil {
			continue
		}
		r, err := d.Resolve(ctx, address.Path{}, p)
		if err != nil && !errors.Is(err, tenants.ErrNotHosted) || (r.Plan == nil && r.Remote.IsZero()) {
			log.InfoContext(ctx, "list notice: recipient takes no mail", "to", to, "err", err)
			continue
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return
	}
	blob, err := d.newBlob(ctx, &b, d.maxGen)
	if err != nil {
		log.WarnContext(ctx, "list notice not sent", "err", err)
		return
	}
	if _, err := d.Deliver(ctx, &Message{From: address.Path{}, Blob: blob, Rcpts: rs, Kind: queue.KindList, DomainID: lt.List.DomainID}); err != nil {
		log.WarnContext(ctx, "list notice not sent", "err", err)
		return
	}
	log.InfoContext(ctx, "list notice sent", "to", strings.Join(rcpts, ", "), "subject", subject)
}
