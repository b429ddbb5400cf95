package smtpd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/logctx"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// session is one client's SMTP session, from EHLO to QUIT (a new one after
// STARTTLS). go-smtp passes no context; the session holds one, cancelled
// in Logout.
type session struct {
	e    *Endpoint
	s    *Server
	conn *smtp.Conn
	tc   *trackedConn
	// base is the session's context, cancelled in Logout; ctx is the
	// current command's, base with the command's deadline (see command).
	base   context.Context
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	remote string // IP address
	tls    bool
	seq    int // transactions, for ids

	// After AUTH.
	login        *tenants.Login
	unwatch      func()      // leaves the session watch
	ended        atomic.Bool // the login no longer holds (see watchLogin)
	sendAs       delivery.SendAs
	authFailures int
	rcptFailures int

	// The transaction.
	from    address.Path
	hasFrom bool
	utf8    bool
	size    int64 // declared by SIZE, 0 if not
	rcpts   []delivery.Recipient
	mark    string // the hosted-sender result of our Authentication-Results (hostedSenderMark)
}

var (
	_ smtp.Session     = (*session)(nil)
	_ smtp.AuthSession = (*session)(nil)
)

func (e *Endpoint) newSession(c *smtp.Conn) (smtp.Session, error) {
	tc := tracked(c.Conn())
	var id uint64
	if tc != nil {
		id = tc.id
	}
	remote := c.Conn().RemoteAddr().String()
	if h, _, err := net.SplitHostPort(remote); err == nil {
		remote = h
	}
	_, isTLS := c.TLSConnectionState()
	// Delivery and the store log with ctx: the connection goes with it.
	ctx, cancel := context.WithCancel(logctx.With(context.Background(),
		slog.String("listener", e.name), slog.Uint64("conn", id), slog.String("remote", remote)))
	ss := &session{e: e, s: e.s, conn: c, tc: tc, base: ctx, ctx: ctx, cancel: cancel, remote: remote, tls: isTLS,
		log: e.log.With("conn", id, "remote", remote, "tls", isTLS)}
	if e.stopping.Load() {
		cancel()
		return nil, errShuttingDown
	}
	ss.log.Debug("session", "helo", c.Hostname())
	return ss, nil
}

// Reset ends the transaction (RSET, or after DATA).
func (ss *session) Reset() {
	ss.from, ss.hasFrom, ss.utf8, ss.size, ss.rcpts, ss.mark = address.Path{}, false, false, 0, nil, ""
}

// Logout ends the session.
func (ss *session) Logout() error {
	if ss.unwatch != nil {
		ss.unwatch()
	}
	ss.cancel()
	return nil
}

// command gives the database work of one command a deadline: ss.ctx is
// base with timeout d until the returned function is called, so that a
// database that hangs gets the client a 451 4.3.0 (ss.temp) instead of a
// session stuck for good. go-smtp runs one command at a time per session.
func (ss *session) command(d time.Duration) (done func()) {
	ctx, cancel := context.WithTimeout(ss.base, d)
	ss.ctx = ctx
	return func() {
		cancel()
		ss.ctx = ss.base
	}
}

// temp answers our own trouble: a 4xx, the cause to the log.
func (ss *session) temp(what string, err error) error {
	ss.log.Warn(what, "err", err)
	return errTempFailure
}

func nonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// Mail starts a transaction: MAIL FROM (RFC 5321 4.1.1.2).
func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.e.stopping.Load() {
		return errShuttingDown
	}
	defer ss.command(ss.s.cfg.CommandTimeout)()
	if ss.e.submission {
		if ss.login == nil {
			return errAuthRequired
		}
		if ss.ended.Load() {
			return errLoginEnded
		}
		if !ss.login.Mailbox.MaySend {
			ss.log.Info("MAIL refused: mailbox may not send", "login", ss.login.Address.String())
			return errMaySend
		}
	}
	// RFC 6531 3.4: a non-ASCII address only with SMTPUTF8.
	if nonASCII(from) && !opts.UTF8 {
		return errNeedUTF8
	}
	p, err := address.ParseReversePath(from)
	switch {
	case errors.Is(err, address.ErrLocalpartTooLong):
		return errSenderTooLong
	case errors.Is(err, address.ErrPathTooLong):
		return errPathTooLong
	case errors.Is(err, address.ErrUnqualified):
		ss.log.Info("MAIL refused", "err", err)
		return errUnqualified(from, "Sender")
	case err != nil:
		ss.log.Info("MAIL refused", "err", err)
		return errSenderSyntax
	}
	if ss.e.submission && ss.sendAs.Envelope(p) != nil {
		ss.log.Info("MAIL refused: sender not the login's", "login", ss.login.Address.String(), "from", from)
		return errNotYourSender
	}
	if free, err := ss.s.blobs.Free(); err != nil {
		return ss.temp("read free disk space", err)
	} else if free >= 0 && free < ss.s.cfg.MinFreeBytes {
		ss.log.Warn("MAIL refused: disk space low", "free", free, "min", ss.s.cfg.MinFreeBytes)
		return errLowDisk
	}
	pctx, cancel := context.WithTimeout(ss.ctx, 5*time.Second)
	defer cancel()
	if err := ss.s.db.Ping(pctx); err != nil {
		return ss.temp("database unreachable", err)
	}
	mark, err := ss.hostedSenderMark(p)
	if err != nil {
		return ss.temp("look up the sender's domain", err)
	}
	ss.Reset()
	ss.from, ss.hasFrom, ss.utf8, ss.size, ss.mark = p, true, opts.UTF8, opts.Size, mark
	return nil
}

// Rcpt adds a recipient: RCPT TO (RFC 5321 4.1.1.3), resolved at once so
// that unknown, disabled, full and foreign recipients are refused here.
// After MaxRcptFailures refusals on one connection the answer is 421 and
// the connection closes, which slows down address harvesting (Postfix's
// smtpd_hard_error_limit).
func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	defer ss.command(ss.s.cfg.CommandTimeout)()
	err := ss.rcpt(to, opts)
	if err == nil {
		return nil
	}
	if ss.rcptFailures++; ss.rcptFailures >= ss.s.cfg.MaxRcptFailures {
		ss.log.Warn("too many refused recipients; closing the connection", "refused", ss.rcptFailures)
		return errRcptFailures
	}
	return err
}

func (ss *session) rcpt(to string, opts *smtp.RcptOptions) error {
	if !ss.hasFrom {
		return reply(503, 5, 5, 1, "MAIL first")
	}
	if nonASCII(to) && !ss.utf8 {
		return errNeedUTF8
	}
	c := delivery.RcptCheck{From: ss.from, Size: ss.size, Remote: ss.remote}
	if ss.e.submission {
		c.Login, c.Pending = ss.login, int64(len(ss.rcpts))+1
	}
	p, err := address.ParseForwardPath(to)
	switch {
	case errors.Is(err, address.ErrLocalpartTooLong):
		// An SRS bounce may come back longer than 64 octets.
		c.Raw = to
	case errors.Is(err, address.ErrPathTooLong):
		return errPathTooLong
	case errors.Is(err, address.ErrUnqualified):
		ss.log.Info("RCPT refused", "err", err)
		return errUnqualified(to, "Recipient")
	case err != nil:
		ss.log.Info("RCPT refused", "err", err)
		return errRcptSyntax
	default:
		c.To = p
	}
	// Delivery's checks, the same for webmail (delivery.Submit); here
	// only their answers.
	r, err := ss.s.deliverer.CheckRecipient(ss.ctx, c)
	switch {
	case err == nil:
	case errors.Is(err, address.ErrLocalpartTooLong):
		return errRcptTooLong
	case errors.Is(err, delivery.ErrSRSRefused):
		ss.log.Info("RCPT refused: SRS address", "rcpt", to, "err", err)
		return errSRSRefused
	case errors.Is(err, delivery.ErrNotListPoster):
		ss.log.Info("RCPT refused: not a poster of the list", "rcpt", to, "from", ss.from.String())
		return errNotListPoster
	case errors.Is(err, tenants.ErrNotHosted):
		ss.log.Info("RCPT refused: relaying denied", "rcpt", to)
		return errRelayDenied
	case errors.Is(err, tenants.ErrNoSuchUser):
		ss.log.Info("RCPT refused: no such user", "rcpt", to)
		return errNoSuchUser
	case errors.Is(err, tenants.ErrDisabled):
		ss.log.Info("RCPT refused: disabled", "rcpt", to)
		return errDisabled
	case errors.Is(err, delivery.ErrMailboxFull):
		ss.log.Info("RCPT refused: mailbox full", "rcpt", to)
		return errMailboxFull
	case errors.Is(err, delivery.ErrTooBigForMailbox):
		ss.log.Info("RCPT refused: message too big for mailbox", "rcpt", to, "size", ss.size)
		return errTooBigForBox
	case errors.Is(err, delivery.ErrNoQueue):
		ss.log.Warn("RCPT refused: remote recipient and no outbound queue", "rcpt", to)
		return errNoQueue
	case errors.Is(err, delivery.ErrBounceTooBig):
		ss.log.Info("RCPT refused: bounce too big", "rcpt", to, "size", ss.size)
		return errBounceTooBig
	case errors.Is(err, delivery.ErrRateLimited) && r.SRSBounce:
		// A bounce through an SRS address, past its forwarding
		// mailbox's limits (mailsvc/delivery, bounce.go).
		ss.log.Info("RCPT refused: bounce limit", "rcpt", to, "err", err)
		return errBounceLimited
	case errors.Is(err, delivery.ErrRateLimited):
		return errRateLimited
	default:
		return ss.temp("check recipient", err)
	}
	if ss.s.greylist != nil && !ss.e.submission && r.Local() {
		if ip, err := netip.ParseAddr(ss.remote); err == nil {
			ok, err := ss.s.greylist.Check(ss.ctx, ip, ss.from.String(), to)
			if err != nil {
				return ss.temp("greylist", err)
			}
			if !ok {
				ss.log.Info("RCPT greylisted", "rcpt", to, "from", ss.from.String())
				return errGreylisted
			}
		}
	}
	ss.rcpts = append(ss.rcpts, r)
	return nil
}

// transactionID names a transaction in logs and Received headers.
func (ss *session) transactionID() string {
	id := uint64(0)
	if ss.tc != nil {
		id = ss.tc.id
	}
	return strconv.FormatUint(id, 36) + "." + strconv.Itoa(ss.seq) + "." + strconv.FormatInt(ss.s.now().UnixNano()%1e6, 36)
}
