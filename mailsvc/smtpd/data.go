package smtpd

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/delivery"
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
	n, rerr := io.Copy(w, dr)
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
	m := &delivery.Message{From: ss.from, Blob: pending, OwnReceived: 1, Rcpts: ss.rcpts, Header: h}
	if ss.e.submission {
		if err := ss.checkFromHeader(h); err != nil {
			pending.Abort()
			log.Info("DATA refused", "err", err.Message)
			return err
		}
		m.Kind, m.MailboxID, m.DomainID = delivery.KindSubmission, ss.login.Mailbox.ID, ss.login.Mailbox.DomainID
		rcpts := int64(len(ss.rcpts))
		m.Extra = func(tx *gorm.DB) error { return ss.s.recordSubmission(tx, ss.login, rcpts) }
	}
	done := ss.command(ss.s.cfg.DeliveryTimeout)
	defer done()
	res, err := ss.s.deliverer.Deliver(ss.ctx, m)
	switch {
	case errors.Is(err, delivery.ErrRateLimited):
		// Counted again in the delivery's transaction: parallel
		// connections each passed the check at RCPT.
		log.Warn("DATA refused: sending rate limit reached", "err", err)
		return errRateLimited
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

// received is the Received header (RFC 5321 4.4, protocol names of RFC
// 3848 and RFC 6531 3.7.3) put on top of the stored message.
func (ss *session) received(id string) string {
	with := "ESMTP"
	if ss.utf8 {
		with = "UTF8SMTP"
	}
	var tlsInfo string
	if st, ok := ss.conn.TLSConnectionState(); ok {
		with += "S"
		tlsInfo = fmt.Sprintf("\r\n\t(using %s with cipher %s)", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	if ss.login != nil {
		with += "A"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])%s\r\n\tby %s (Postdesk) with %s id %s", sanitizeHELO(ss.conn.Hostname()), ss.remote,
		tlsInfo, ss.s.cfg.Hostname, with, id)
	if len(ss.rcpts) == 1 && !ss.rcpts[0].Address.IsZero() {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", ss.rcpts[0].Address)
	}
	fmt.Fprintf(&b, "; %s\r\n", ss.s.now().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	return b.String()
}

// checkFromHeader answers delivery's From rule in SMTP terms.
func (ss *session) checkFromHeader(h *delivery.Header) *smtp.SMTPError {
	switch err := ss.sendAs.FromHeader(h); {
	case errors.Is(err, delivery.ErrNoFrom):
		return errNoFrom
	case err != nil:
		return errNotYourFrom
	}
	return nil
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
