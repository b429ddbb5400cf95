package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/mailsvc/rspamd"
	"github.com/postdesk/postdesk/tenants/address"
)

// Data receives the message (DATA or BDAT), stores it with a Received
// header in a blob, and delivers it. go-smtp has already refused a
// declared SIZE over the limit; its reader stops at the limit
// (ErrDataTooLarge), and, with StrictCRLF, refuses bare CR and LF only
// after the real end of data, so that nothing the client sends after a
// smuggled "<LF>.<LF>" is read as commands.
func (ss *session) Data(r io.Reader) error {
	if ss.tc != nil {
		ss.tc.setBusy(true)
		defer ss.tc.release.Store(true)
	}
	ss.seq++
	id := ss.transactionID()
	log := ss.log.With("id", id)
	start := ss.s.now()

	pending, err := ss.s.blobs.Create(ss.ctx)
	if err != nil {
		io.Copy(io.Discard, r)
		if isNoSpace(err) {
			log.Warn("DATA refused: no disk space", "err", err)
			return errLowDisk
		}
		return ss.temp("create blob", err)
	}
	w := bufio.NewWriterSize(pending, 64<<10)
	w.WriteString(ss.received(id))
	dr := &deadlineReader{r: r, conn: ss.conn, idle: ss.s.cfg.ReadTimeout, end: start.Add(ss.s.cfg.DataTimeout), now: ss.s.now}
	// Authentication-Results fields that claim our host name are dropped
	// on the way in (RFC 8601 5): only ours, in the delivery prefix, may.
	n, rerr := msgauth.CopyStripped(w, dr, ss.s.cfg.Hostname)
	if rerr == nil {
		rerr = w.Flush()
	}
	if rerr != nil {
		pending.Abort()
		var serr *smtp.SMTPError
		switch {
		case errors.As(rerr, &serr):
			// Size limit or bare CR/LF, both after the real end of data.
			log.Info("DATA refused", "reply", serr.Code, "err", serr.Message, "bytes", n)
			return serr
		case isNoSpace(rerr):
			io.Copy(io.Discard, r)
			log.Warn("DATA refused: no disk space", "err", rerr)
			return errLowDisk
		}
		io.Copy(io.Discard, r)
		return ss.temp("receive message", rerr)
	}
	h := delivery.ParseHeader(pending.ReaderAt(), pending.Size())
	m := &delivery.Message{From: ss.from, Blob: pending, OwnReceived: 1, Rcpts: ss.rcpts, Header: h, Remote: ss.remote}
	if ss.e.submission {
		if err := ss.checkOriginators(log, h); err != nil {
			pending.Abort()
			return err
		}
		m.Kind, m.MailboxID, m.DomainID, m.Login = delivery.KindSubmission, ss.login.Mailbox.ID, ss.login.Mailbox.DomainID, ss.login
	}
	done := ss.command(ss.s.cfg.DeliveryTimeout)
	defer done()
	if !ss.e.submission {
		if refuse := ss.checkAuthenticity(log, m, pending); refuse != nil {
			pending.Abort()
			return refuse
		}
		if refuse := ss.scan(log, id, m, pending); refuse != nil {
			pending.Abort()
			return refuse
		}
	}
	res, err := ss.s.deliverer.Deliver(ss.ctx, m)
	var rej *delivery.SieveRejection
	switch {
	case errors.Is(err, delivery.ErrNotABounce):
		log.Info("DATA refused: not a bounce", "err", err)
		return errNotABounce
	case errors.Is(err, delivery.ErrBounceTooBig):
		log.Info("DATA refused: bounce too big", "err", err)
		return errBounceTooBig
	case errors.Is(err, delivery.ErrRateLimited) && !ss.e.submission:
		log.Info("DATA refused: bounce limit", "err", err)
		return errBounceLimited
	case errors.Is(err, delivery.ErrRateLimited):
		// Counted again in the delivery's transaction: parallel
		// connections each passed the check at RCPT.
		log.Warn("DATA refused: sending rate limit reached", "err", err)
		return errRateLimited
	case errors.As(err, &rej):
		// The one recipient's Sieve reject or ereject (RFC 5429 2.1,
		// 2.2): refused in the protocol, the script's reason as the text.
		log.Info("DATA refused: the recipient's sieve script rejects it", "err", err)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: rej.Reason}
	case errors.Is(err, delivery.ErrLoop):
		log.Info("DATA refused: loop", "err", err)
		return errLoop
	case errors.Is(err, delivery.ErrMailboxFull):
		log.Info("DATA refused: mailbox full", "err", err)
		return errMailboxFull
	case errors.Is(err, delivery.ErrNoQueue):
		log.Warn("DATA refused: no outbound queue", "err", err)
		return errNoQueue
	case isNoSpace(err):
		log.Warn("DATA refused: no disk space", "err", err)
		return errLowDisk
	case err != nil:
		log.Warn("DATA failed; answered 451", "err", err)
		return errTempFailure
	}
	log.Info("message accepted", "from", ss.from.String(), "rcpts", len(ss.rcpts), "bytes", n,
		"stored", res.Stored, "queued", res.Queued, "elapsed", ss.s.now().Sub(start).Round(time.Millisecond))
	return nil
}

// received is the Received header (delivery.Received; protocol names of
// RFC 3848 and RFC 6531 3.7.3) put on top of the stored message.
func (ss *session) received(id string) string {
	t := delivery.Trace{HELO: ss.conn.Hostname(), Remote: ss.remote, By: ss.s.cfg.Hostname, Product: "Postdesk",
		With: "ESMTP", ID: id, Date: ss.s.now()}
	if ss.utf8 {
		t.With = "UTF8SMTP"
	}
	if st, ok := ss.conn.TLSConnectionState(); ok {
		t.With += "S"
		t.TLS = fmt.Sprintf("using %s with cipher %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	if ss.login != nil {
		t.With += "A"
	}
	if len(ss.rcpts) == 1 {
		t.For = ss.rcpts[0].Address
	}
	return delivery.Received(t)
}

// checkAuthenticity runs the MX's checks of a received message (SPF, DKIM,
// DMARC: msgauth) and gives their Authentication-Results field to the
// delivery, with the hosted-sender mark; a failing message whose author
// domain publishes p=reject is refused with 550 5.7.1 (RFC 7489 10.3),
// unless it comes from a forwarder a recipient's domain trusts, and is
// then filed into Junk like one with p=quarantine.
func (ss *session) checkAuthenticity(log *slog.Logger, m *delivery.Message, pending blob.Pending) *smtp.SMTPError {
	var extra []string
	if ss.mark != "" {
		extra = append(extra, ss.mark)
	}
	if ss.s.checker == nil {
		if len(extra) > 0 {
			m.AuthResults = "Authentication-Results: " + ss.s.cfg.Hostname + "; " + strings.Join(extra, ";\r\n\t") + "\r\n"
		}
		return nil
	}
	ip, _ := netip.ParseAddr(ss.remote)
	in := msgauth.Input{Remote: ip, HELO: ss.conn.Hostname(), Header: m.Header.Fields,
		Message: func() io.Reader { return io.NewSectionReader(pending.ReaderAt(), 0, pending.Size()) }}
	if !ss.from.IsNull() {
		in.MailFrom = ss.from.String()
	}
	ctx, cancel := context.WithTimeout(ss.ctx, ss.s.cfg.CheckTimeout)
	v := ss.s.checker.Check(ctx, in)
	cancel()
	m.AuthResults = v.AuthResults(ss.s.cfg.Hostname, extra...)
	m.Quarantine = v.Quarantines()
	m.Verdict = &v
	if !v.Rejects() {
		return nil
	}
	// A forwarder a recipient's domain trusts gets Junk instead (RFC
	// 7489 6.7: local policy): it may have broken the signature.
	var domains []int64
	for _, r := range m.Rcpts {
		if r.Plan != nil {
			domains = append(domains, r.Plan.Mailbox.DomainID)
		}
	}
	trusted, err := ss.s.tenants.TrustsForwarder(ss.ctx, domains, ip)
	if err != nil {
		log.Warn("DATA failed: trusted forwarders unreadable; answered 451", "err", err)
		return errTempFailure
	}
	if trusted {
		log.Info("DMARC policy reject overridden for a trusted forwarder: filed into Junk", "from_domain", v.FromDom)
		m.Quarantine = true
		return nil
	}
	log.Info("DATA refused: DMARC policy reject", "from_domain", v.FromDom, "spf", v.SPF, "dmarc", v.DMARC)
	return errDMARCReject
}

// scan asks rspamd (when set) for its verdict on a received message,
// before the 250, and applies its action: reject is refused with 554
// 5.7.1, soft reject and greylist get 451 4.7.1, add header and rewrite
// subject file the message into Junk; every scanned message is stored
// with its score and symbols in X-Spam-* fields of the delivery prefix.
// Without a verdict (rspamd down, slower than its time limit, answering
// garbage) the message is taken unscanned, counted and logged, or answered
// 451 4.7.0 when the server is set to fail closed.
func (ss *session) scan(log *slog.Logger, id string, m *delivery.Message, pending blob.Pending) *smtp.SMTPError {
	if ss.s.spam == nil {
		return nil
	}
	env := rspamd.Envelope{IP: ss.remote, HELO: ss.conn.Hostname(), ID: id}
	if !ss.from.IsNull() {
		env.From = ss.from.String()
	}
	for _, r := range m.Rcpts {
		if !r.Address.IsZero() {
			env.Rcpts = append(env.Rcpts, r.Address.String())
		}
	}
	res, err := ss.s.spam.Check(ss.ctx, env, io.NewSectionReader(pending.ReaderAt(), 0, pending.Size()), pending.Size())
	if err != nil {
		if ss.s.cfg.SpamFailClosed {
			log.Warn("DATA refused: no spam verdict, failing closed", "err", err)
			return errSpamUnavailable
		}
		n := ss.s.spam.Unscanned()
		log.Warn("message taken unscanned: no spam verdict", "err", err, "unscanned_total", n)
		return nil
	}
	log.Info("spam verdict", "action", res.Action, "score", res.Score)
	switch res.Action {
	case rspamd.ActionReject:
		return errSpamReject
	case rspamd.ActionSoftReject, rspamd.ActionGreylist:
		return errSpamLater
	case rspamd.ActionAddHeader, rspamd.ActionRewriteSubect:
		m.Quarantine = true
	}
	m.AuthResults += res.Headers()
	return nil
}

// hostedSenderMark is the result added to our Authentication-Results
// field (delivery prefix, above our Received header) when a client that
// has not authenticated gives an envelope sender of one of our domains:
// such mail is taken (the domain's users may send through other servers),
// but it may be forged, and webmail warns of it. It is RFC 8601's method
// "auth" (2.7.4) with result none and the sender as smtp.mailfrom. Only the
// fields above our Received header are ours; webmail (panel/webmail,
// trace.go) reads the mark only there, and fields claiming our host name
// further down are removed on the way in (CopyStripped).
func (ss *session) hostedSenderMark(from address.Path) (string, error) {
	if ss.e.submission || ss.login != nil {
		return "", nil
	}
	hosted, err := ss.s.deliverer.HostedSender(ss.ctx, from)
	if err != nil || !hosted {
		return "", err
	}
	return "auth=none\r\n\treason=\"sender domain hosted here, client not authenticated\"\r\n\tsmtp.mailfrom=" + from.String(), nil
}

// checkOriginators answers delivery's sender rule for the header
// (SendAs.Originators) in SMTP terms. A second From or Sender is a fault of
// the message, not of a mailbox: 554, which RFC 5321 4.3.2 lists for the
// end of DATA ("transaction failed"), with RFC 3463's X.6.0 (other media
// error: nothing more specific names a malformed header), as go-smtp's
// refusal of bare line endings does; so is a header that can't be read to
// its end, where a second From could hide.
func (ss *session) checkOriginators(log *slog.Logger, h *delivery.Header) *smtp.SMTPError {
	err := ss.sendAs.Originators(h)
	if err != nil {
		log.Info("DATA refused: sender rule", "err", err, "login", ss.login.Address.String())
	}
	field := "From"
	var fe *delivery.FieldError
	if errors.As(err, &fe) {
		field = fe.Field
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, delivery.ErrNoFrom):
		return errNoFrom
	case errors.Is(err, delivery.ErrHeaderUnread):
		return reply(554, 5, 6, 0, "Message header malformed or too large")
	case errors.Is(err, delivery.ErrDuplicateField):
		return reply(554, 5, 6, 0, "Message has more than one "+field+" header")
	case field == "From":
		return errNotYourFrom
	}
	return reply(550, 5, 7, 1, field+" header address not owned by the authenticated user")
}

// deadlineReader moves the read deadline forward on every read, so that a
// client may take up to idle between two packets, but no longer than end
// for the whole message (go-smtp sets a deadline only per command line).
// Time is the server's clock (now); only the deadline handed to the
// socket, which the runtime reads as wall-clock time, is made from
// time.Now, as now plus what is left.
type deadlineReader struct {
	r    io.Reader
	conn *smtp.Conn
	idle time.Duration
	end  time.Time
	now  func() time.Time
}

func (d *deadlineReader) Read(b []byte) (int, error) {
	wait := min(d.idle, d.end.Sub(d.now()))
	d.conn.Conn().SetReadDeadline(time.Now().Add(wait))
	return d.r.Read(b)
}

func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
