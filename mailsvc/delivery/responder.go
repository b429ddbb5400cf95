package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// responseSkip says why a responder must not answer a message (RFC 3834
// section 2), or "" when it may.
func responseSkip(m *Message, rp *tenants.ResponderPlan) string {
	switch {
	case m.From.IsNull() || m.From.Address.IsZero() || m.From.DomainLiteral != "":
		return "null or literal sender"
	}
	sender := m.From.Address
	for _, own := range rp.Own {
		if own == sender {
			return "sender is the mailbox itself"
		}
	}
	// Automated senders by convention: bounces, list software.
	local := strings.ToLower(string(sender.Local))
	switch {
	case local == "mailer-daemon", local == "listserv", local == "majordomo",
		strings.HasPrefix(local, "owner-"), strings.HasSuffix(local, "-request"):
		return "automated sender"
	}
	h := m.Header.Fields
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" {
		if kw, _, _ := strings.Cut(v, ";"); strings.TrimSpace(kw) != "no" {
			return "Auto-Submitted: " + v
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "list", "junk":
		return "Precedence: " + h.Get("Precedence")
	}
	for f := h.Fields(); f.Next(); {
		if strings.HasPrefix(strings.ToLower(f.Key()), "list-") {
			return "mailing list (" + f.Key() + ")"
		}
	}
	if v := strings.ToLower(h.Get("X-Auto-Response-Suppress")); strings.Contains(v, "oof") || strings.Contains(v, "all") {
		return "X-Auto-Response-Suppress: " + v
	}
	if ct := strings.ToLower(h.Get("Content-Type")); strings.HasPrefix(strings.TrimSpace(ct), "multipart/report") {
		return "delivery report"
	}
	// RFC 3834 2: a personal responder answers only mail addressed to the
	// person, by one of the mailbox's addresses in To or Cc; not Bcc, lists
	// or mail with a forged envelope recipient, which would make it a
	// reflector to whomever a message names as its sender.
	if !addressedTo(m.Header, rp.Own) {
		return "To and Cc name none of the mailbox's addresses"
	}
	return ""
}

// addressedTo reports whether a message's To or Cc holds one of own, or a
// subaddress of one (user+tag, RFC 5233).
func addressedTo(h *Header, own []address.Address) bool {
	mh := mail.Header{Header: message.Header{Header: h.Fields}}
	for _, key := range []string{"To", "Cc"} {
		list, _ := mh.AddressList(key)
		for _, a := range list {
			addr, err := address.ParseAddress(a.Address)
			if err != nil {
				continue
			}
			if base, _, ok := strings.Cut(string(addr.Local), "+"); ok && base != "" {
				addr.Local = address.Localpart(base)
			}
			for _, o := range own {
				if o == addr {
					return true
				}
			}
		}
	}
	return false
}

// respond lets a mailbox's responder answer the message's sender: at most
// once per sender per interval and tenants.MaxResponderRepliesPerHour
// times an hour (claimed in the database, so several processes agree),
// with Auto-Submitted: auto-replied and a null envelope sender, so that no
// responder or bounce answers it (RFC 3834 3.1.7, 3.3).
//
// A reply to another server is mail this server sends for the mailbox, to
// whomever a message names as its sender: like a remote forward it needs
// the mailbox's send permission and counts against its (and its domain's)
// send limits (ratelimit.go), checked before the claim and counted in the
// reply's delivery transaction. A reply to a local sender stays here.
// The message is already delivered; a failure here is logged only.
func (d *Deliverer) respond(ctx context.Context, m *Message, p *tenants.Plan) {
	rp := p.Respond
	log := d.log.With("mailbox", rp.From.String(), "sender", m.From.String())
	if why := responseSkip(m, rp); why != "" {
		log.DebugContext(ctx, "responder stays silent", "why", why)
		return
	}
	to, err := d.Resolve(ctx, address.Path{}, address.Path{Address: m.From.Address})
	remote := errors.Is(err, tenants.ErrNotHosted) && !to.Remote.IsZero()
	if err != nil && !remote {
		log.InfoContext(ctx, "responder: the sender takes no reply; not answering", "err", err)
		return
	}
	var account *RateAccount // the reply's send count, for one to another server
	if remote {
		if !p.MaySend {
			log.InfoContext(ctx, "responder: mailbox may not send; no reply to another server")
			return
		}
		if d.limiter != nil {
			a := RateAccount{MailboxID: p.Mailbox.MailboxID, DomainID: p.Mailbox.DomainID, Address: p.Mailbox.Address}
			err := d.limiter.check(ctx, log, a, "", 1, 1, auditResponderLimit, "its responder does not answer other servers' senders")
			if err != nil {
				log.WarnContext(ctx, "responder: send limit; not answering", "err", err)
				return
			}
			account = &a
		}
	}
	ok, err := d.tenants.ClaimResponderReply(ctx, rp.MailboxID, m.From.Address, rp.IntervalDays)
	if errors.Is(err, tenants.ErrResponderLimit) {
		log.WarnContext(ctx, "responder: hourly reply limit reached; not answering", "limit", tenants.MaxResponderRepliesPerHour)
		return
	}
	if err != nil {
		log.WarnContext(ctx, "responder: can't record the reply; not answering", "err", err)
		return
	}
	if !ok {
		log.DebugContext(ctx, "responder answered this sender recently")
		return
	}
	body := d.composeResponse(m, rp)
	b, err := d.newBlob(ctx, bytes.NewReader(body), d.maxGen)
	if err != nil {
		log.WarnContext(ctx, "responder: reply not delivered", "err", err)
		return
	}
	_, err = d.Deliver(ctx, &Message{From: address.Path{}, Blob: b, Rcpts: []Recipient{to}, Kind: KindResponder, DomainID: p.Mailbox.DomainID, responder: account})
	if err != nil {
		log.WarnContext(ctx, "responder: reply not delivered", "err", err)
		return
	}
	log.InfoContext(ctx, "responder answered")
}

func (d *Deliverer) composeResponse(m *Message, rp *tenants.ResponderPlan) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) {
		b.WriteString(k + ": " + v + "\r\n")
	}
	hdr("From", "<"+rp.From.String()+">")
	hdr("To", "<"+m.From.Address.String()+">")
	hdr("Subject", mime.QEncoding.Encode("utf-8", oneLine(rp.Subject)))
	hdr("Date", d.now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomID()+"@"+d.hostname+">")
	if id := strings.TrimSpace(m.Header.Fields.Get("Message-Id")); strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") && !strings.ContainsAny(id, "\r\n") {
		hdr("In-Reply-To", id)
		refs := oneLine(m.Header.Fields.Get("References"))
		if len(refs) > 900 {
			refs = ""
		}
		hdr("References", strings.TrimSpace(refs+" "+id))
	}
	hdr("Auto-Submitted", "auto-replied")
	hdr("Precedence", "bulk")
	hdr("X-Auto-Response-Suppress", "All")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(rp.Body, "\r\n", "\n")))
	w.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
