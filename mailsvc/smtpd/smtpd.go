// Package smtpd is Postdesk's SMTP server on go-smtp: the MX (RFC 5321),
// which takes mail for the domains Postdesk hosts, and submission (RFC 6409,
// STARTTLS on 587 and implicit TLS on 465, RFC 8314), which takes mail from
// logged-in users for anywhere. Recipients are resolved and messages
// delivered by mailsvc/delivery; tenants decides who an address or a login
// is.
//
// go-smtp is used through a patched copy (third_party/go-smtp, PATCHES.md):
// bare <postmaster>, quoted local parts as received, strict CRLF in DATA
// against SMTP smuggling, a command limit, 421 closing the connection, a
// line limit of its own inside DATA, and no CHUNKING.
//
// Every limit go-smtp leaves open is set: message size, recipients, line
// length, commands per connection, idle, DATA and write timeouts; besides,
// open connections in total and per client address (mailsvc/connlimit),
// refused recipients per connection, and a deadline on each command's
// database work. Replies to the client are generic; the cause goes to the
// log, one logger per connection with its id and remote address (which
// the session's context carries to delivery's log lines too, see
// mailsvc/logctx). A message is answered 250 only once its blob is synced
// and its rows committed; our own trouble (database down, disk low) is
// always a 4xx.
package smtpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/greylist"
	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/mailsvc/rspamd"
	"github.com/postdesk/postdesk/tenants"
)

// Config holds the SMTP servers' settings; zero fields take the defaults
// in the comments.
type Config struct {
	Hostname        string        // greeting and Received headers; default "localhost"
	MaxMessageBytes int64         // SIZE; default 50 MiB
	MaxRecipients   int           // per message; default 100 (RFC 5321 4.5.3.1.8's minimum)
	MaxLineLength   int           // any line outside DATA; longer ends the connection; default 12288
	MaxCommands     int           // per connection; default 10000
	ReadTimeout     time.Duration // idle time waiting for a command or data; default 5m (RFC 5321 4.5.3.2)
	WriteTimeout    time.Duration // default 1m
	DataTimeout     time.Duration // whole DATA transfer; default 30m
	MinFreeBytes    int64         // MAIL gets 452 4.3.1 below this much free blob space; default 256 MiB
	// MaxDataLineLength is the longest text line inside DATA, CRLF
	// included; default 1 MiB. RFC 5321 4.5.3.1.6 says 1000 octets, but
	// real mail (HTML from mailing tools) has longer lines and Postfix takes
	// them; a longer line gets 554 5.6.0 after the end of data, never a
	// 4xx that the sender would retry for days.
	MaxDataLineLength int
	// MaxCommandLineLength is the longest command line, CRLF included;
	// default 512 (RFC 5321 4.5.3.1.4). MAIL and RCPT get 1024 more for
	// extension parameters, and AUTH, like SASL responses, only
	// MaxLineLength's bound, whose default is the 12288 octets RFC 4954 4
	// names for SASL data (go-smtp patch 8); a longer line gets 500 5.5.2
	// and the session goes on.
	MaxCommandLineLength int
	// CommandTimeout bounds the database work of one command (MAIL, RCPT,
	// AUTH); default 30s. DeliveryTimeout bounds DATA's delivery once the
	// message is received; default 2m (the commit itself is bounded by the
	// store, which never cuts a commit short to answer 451 for a message
	// whose rows may still land). Past either the reply is 451 4.3.0;
	// AUTH's is 454 4.7.0, RFC 4954 6's temporary authentication failure.
	CommandTimeout  time.Duration
	DeliveryTimeout time.Duration
	// CheckTimeout bounds the MX's SPF, DKIM and DMARC lookups of one
	// message (within DeliveryTimeout); what has not answered by then is
	// a temperror, and the message is delivered. Default 30s.
	CheckTimeout time.Duration
	// SpamFailClosed answers 451 4.7.0 when rspamd gives no verdict,
	// instead of taking the message unscanned.
	SpamFailClosed bool
	// Connection caps (mailsvc/connlimit): open connections on the MX, and
	// on submission (587 and 465 together), each with its own total so
	// that a flood on the MX can't shut users out of submission; and from
	// one client address (IPv6: one /64), and from one network (a /24 or
	// /48: connlimit.NetFactor times the per-address cap, lifted with it).
	// Past a cap the connection gets 421 4.7.0 and is closed before the
	// greeting; but at a total, or when connections that have not
	// authenticated hold connlimit.UnauthShare of it, a new connection
	// evicts the oldest idle unauthenticated one instead. Zero takes the
	// default; -1 means no cap.
	MaxConnections                int // MX; default 1000
	MaxConnectionsPerIP           int // MX; default 20
	MaxSubmissionConnections      int // default 500
	MaxSubmissionConnectionsPerIP int // default 10
	// PreAuthTimeout closes a submission connection that has not
	// authenticated this long after it was accepted, whatever it sends
	// meanwhile (NOOP, RSET); default 60s.
	PreAuthTimeout time.Duration
	// MXSessionTimeout is the MX's counterpart: no MX connection ever
	// authenticates, so each is closed this long after it was accepted,
	// at its next idle moment (never while a message's data is coming
	// in); the sender reconnects for more. Default 5m, the time Postfix's
	// own client reuses a connection (smtp_connection_reuse_time_limit).
	MXSessionTimeout time.Duration
	// MaxRcptFailures closes a connection with 421 4.7.0 once this many
	// RCPT commands have been refused in one session (STARTTLS starts a
	// new one); default 20. It slows down address harvesting.
	MaxRcptFailures int
	// MaxAuthFailures closes a connection with 421 after this many failed
	// AUTH commands; default 3. The shared login throttle applies besides.
	MaxAuthFailures int
	// AllowPlaintextAuth allows AUTH without TLS (tests, development).
	AllowPlaintextAuth bool
}

func (c *Config) defaults() {
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 50 << 20
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = 100
	}
	if c.MaxLineLength <= 0 {
		c.MaxLineLength = 12288
	}
	if c.MaxCommandLineLength <= 0 {
		c.MaxCommandLineLength = 512
	}
	if c.MaxCommands <= 0 {
		c.MaxCommands = 10000
	}
	if c.MaxDataLineLength <= 0 {
		c.MaxDataLineLength = 1 << 20
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 30 * time.Second
	}
	if c.DeliveryTimeout <= 0 {
		c.DeliveryTimeout = 2 * time.Minute
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 30 * time.Second
	}
	for _, f := range []struct {
		v   *int
		def int
	}{{&c.MaxConnections, 1000}, {&c.MaxConnectionsPerIP, 20}, {&c.MaxSubmissionConnections, 500},
		{&c.MaxSubmissionConnectionsPerIP, 10}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if c.PreAuthTimeout <= 0 {
		c.PreAuthTimeout = time.Minute
	}
	if c.MXSessionTimeout <= 0 {
		c.MXSessionTimeout = 5 * time.Minute
	}
	if c.MaxRcptFailures <= 0 {
		c.MaxRcptFailures = 20
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 5 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = time.Minute
	}
	if c.DataTimeout <= 0 {
		c.DataTimeout = 30 * time.Minute
	}
	if c.MinFreeBytes == 0 {
		c.MinFreeBytes = 256 << 20
	}
	if c.MaxAuthFailures <= 0 {
		c.MaxAuthFailures = 3
	}
}

// Options are a Server's dependencies.
type Options struct {
	Config  Config
	Tenants *tenants.Service
	// Sessions ends the submission sessions of an account disabled,
	// expired or whose password changed; one per process, shared with
	// IMAP and POP3, run by the caller. Nil: sessions are not watched.
	Sessions  *tenants.SessionWatch
	Deliverer *delivery.Deliverer
	// Checker runs SPF, DKIM and DMARC on mail at the MX (msgauth); nil
	// runs none, and the Authentication-Results field holds only the
	// hosted-sender mark.
	Checker *msgauth.Checker
	// Greylist greylists the MX's local recipients (never submission's);
	// nil: off.
	Greylist *greylist.Greylist
	// Spam scans the MX's messages with rspamd before the 250; nil: off.
	Spam  *rspamd.Client
	Blobs blob.Store // its Free tells when disk space is low
	DB    *database.DB
	// TLS is the certificate configuration for STARTTLS and implicit TLS;
	// nil offers no TLS.
	TLS    *tls.Config
	Logger *slog.Logger
	Now    func() time.Time
}

// Server makes the SMTP endpoints, which share its dependencies.
type Server struct {
	cfg       Config
	tenants   *tenants.Service
	sessions  *tenants.SessionWatch
	deliverer *delivery.Deliverer
	checker   *msgauth.Checker
	greylist  *greylist.Greylist
	spam      *rspamd.Client
	blobs     blob.Store
	db        *database.DB
	tls       *tls.Config
	log       *slog.Logger
	now       func() time.Time
	connIDs   atomic.Uint64
	// Open connections on the MX and on submission.
	mxConns, subConns *connlimit.Limiter
}

// New returns a Server.
func New(opts Options) *Server {
	opts.Config.defaults()
	s := &Server{cfg: opts.Config, tenants: opts.Tenants, deliverer: opts.Deliverer, checker: opts.Checker, greylist: opts.Greylist, spam: opts.Spam, blobs: opts.Blobs, db: opts.DB,
		tls: opts.TLS, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.sessions = opts.Sessions
	if s.now == nil {
		s.now = time.Now
	}
	c := s.cfg
	// On the MX no connection authenticates: all are evictable when idle,
	// so a flood of idle connections can't keep mail out (the oldest goes
	// first, and a flood's connections are older than a sender's short
	// session); a message coming in is busy and never evicted (see
	// trackedConn); and MXSessionTimeout bounds how long one may stay.
	s.mxConns = connlimit.New(connlimit.Limits{Total: c.MaxConnections, PerIP: c.MaxConnectionsPerIP,
		PreAuthTimeout: c.MXSessionTimeout})
	s.subConns = connlimit.New(connlimit.Limits{Total: c.MaxSubmissionConnections,
		PerIP: c.MaxSubmissionConnectionsPerIP, PreAuthTimeout: c.PreAuthTimeout})
	return s
}

// Endpoint is one SMTP listener's server: the MX, submission with
// STARTTLS, or submission over implicit TLS.
type Endpoint struct {
	s           *Server
	name        string
	submission  bool
	implicitTLS bool
	srv         *smtp.Server
	log         *slog.Logger
	stopping    atomic.Bool
	limiter     *connlimit.Limiter
	refuser     *connlimit.Refuser

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

// MX returns the inbound endpoint (port 25): mail for hosted domains, no
// relaying, no AUTH.
func (s *Server) MX() *Endpoint { return s.endpoint("smtp", false, false) }

// Submission returns the submission endpoint with STARTTLS (port 587).
func (s *Server) Submission() *Endpoint { return s.endpoint("submission", true, false) }

// Submissions returns the submission endpoint over implicit TLS (port 465,
// RFC 8314).
func (s *Server) Submissions() *Endpoint { return s.endpoint("submissions", true, true) }

func (s *Server) endpoint(name string, submission, implicitTLS bool) *Endpoint {
	e := &Endpoint{s: s, name: name, submission: submission, implicitTLS: implicitTLS,
		log: s.log.With("listener", name), conns: map[*trackedConn]struct{}{}, limiter: s.mxConns}
	if submission {
		e.limiter = s.subConns
	}
	// Past a cap: 421 in place of the greeting (RFC 5321 3.8, 4.2.5;
	// Postfix does the same at its connection limits).
	e.refuser = &connlimit.Refuser{Log: e.log, Now: s.now, TLS: s.tls, Line: func(w io.Writer, text string) {
		fmt.Fprintf(w, "421 4.7.0 %s %s\r\n", s.cfg.Hostname, text)
	}}
	srv := smtp.NewServer(backend{e})
	srv.Domain = s.cfg.Hostname
	srv.MaxMessageBytes = s.cfg.MaxMessageBytes
	srv.MaxRecipients = s.cfg.MaxRecipients
	srv.MaxLineLength = s.cfg.MaxLineLength
	srv.MaxCommandLineLength = s.cfg.MaxCommandLineLength
	srv.MaxCommands = s.cfg.MaxCommands
	srv.ReadTimeout = s.cfg.ReadTimeout
	srv.WriteTimeout = s.cfg.WriteTimeout
	srv.StrictCRLF = true
	srv.MaxDataLineLength = s.cfg.MaxDataLineLength
	// CHUNKING (RFC 3030) is not offered: every message then comes
	// through go-smtp's DATA reader, the one place that refuses bare CR
	// and LF (smuggling), overlong lines and oversize data, and that Data's
	// deadlines and Shutdown's busy tracking were written for. Upstream's
	// BDAT hands the raw chunks to the backend unchecked. CHUNKING is
	// optional and every client falls back to DATA; BINARYMIME, its main
	// use, is not offered either.
	srv.DisableCHUNKING = true
	srv.EnableSMTPUTF8 = true
	// AUTH is decided by the session (AuthMechanisms, Auth), so that AUTH
	// before STARTTLS is answered 530 as RFC 4954 4 says, not go-smtp's 523.
	srv.AllowInsecureAuth = true
	srv.ErrorLog = errorLog{e.log}
	if !implicitTLS {
		srv.TLSConfig = s.tls
	}
	e.srv = srv
	return e
}

// Serve accepts connections on l until Shutdown. Connections past the
// caps are refused with 421 before the greeting.
func (e *Endpoint) Serve(l net.Listener) error {
	var tl net.Listener = &trackListener{Listener: connlimit.Listen(l, e.limiter, e.refuser.Func(e.implicitTLS)), e: e}
	if e.implicitTLS {
		if e.s.tls == nil {
			return errors.New("implicit TLS needs a TLS configuration")
		}
		tl = tls.NewListener(tl, e.s.tls)
	}
	err := e.srv.Serve(tl)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, closes idle connections at once and lets those
// in the middle of a message finish it (its reply included); connections
// still open when ctx ends are closed.
func (e *Endpoint) Shutdown(ctx context.Context) error {
	e.stopping.Store(true)
	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(ctx) }()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		e.closeConns(false)
		select {
		case err := <-done:
			if errors.Is(err, smtp.ErrServerClosed) {
				return nil
			}
			return err
		case <-ctx.Done():
			e.closeConns(true)
			return fmt.Errorf("%s: connections still open at shutdown were closed: %w", e.name, ctx.Err())
		case <-t.C:
		}
	}
}

func (e *Endpoint) closeConns(all bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for c := range e.conns {
		if all || !c.busy.Load() {
			c.Conn.Close()
		}
	}
}

// trackListener wraps accepted connections so that Shutdown can tell busy
// ones from idle ones.
type trackListener struct {
	net.Listener
	e *Endpoint
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, e: l.e, id: l.e.s.connIDs.Add(1)}
	l.e.mu.Lock()
	l.e.conns[tc] = struct{}{}
	l.e.mu.Unlock()
	return tc, nil
}

// trackedConn is one client connection: its id for the log, and whether a
// message is in progress (from DATA until its reply is written).
type trackedConn struct {
	net.Conn
	e       *Endpoint
	id      uint64
	busy    atomic.Bool
	release atomic.Bool // the next write is the DATA reply: not busy after it
	closed  atomic.Bool
}

func (c *trackedConn) Write(b []byte) (int, error) {
	// The message is in progress from the 354 on: go-smtp calls Data
	// only after writing it, and a client may send its data (and a flood
	// arrive) before that.
	if bytes.HasPrefix(b, []byte("354 ")) || bytes.Contains(b, []byte("\r\n354 ")) {
		c.setBusy(true)
	}
	n, err := c.Conn.Write(b)
	if c.release.CompareAndSwap(true, false) {
		c.setBusy(false)
	}
	return n, err
}

// setBusy marks a message in progress, for Shutdown and for the
// connection cap, which neither evicts a busy connection nor closes it at
// its time limit until the message's reply is written.
func (c *trackedConn) setBusy(busy bool) {
	c.busy.Store(busy)
	if lc := connlimit.Find(c.Conn); lc != nil {
		lc.SetBusy(busy)
	}
}

// NetConn returns the connection under c, for connlimit.Find.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

func (c *trackedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.e.mu.Lock()
		delete(c.e.conns, c)
		c.e.mu.Unlock()
	}
	return c.Conn.Close()
}

// tracked finds our connection under a TLS one.
func tracked(nc net.Conn) *trackedConn {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	tc, _ := nc.(*trackedConn)
	return tc
}

// errorLog sends go-smtp's own error lines to slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Printf(format string, v ...any) { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l errorLog) Println(v ...any)               { l.log.Warn(fmt.Sprint(v...)) }

type backend struct{ e *Endpoint }

// NewSession starts a session for a client's EHLO (again after STARTTLS).
func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return b.e.newSession(c)
}
