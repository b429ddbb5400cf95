// Package imapd is Postdesk's IMAP server: a go-imap v2 backend on the
// message store (mailsvc/store), serving IMAP4rev1 and IMAP4rev2 as
// go-imap does, with STARTTLS and implicit TLS.
//
// The parts:
//
//   - go-imap (third_party/go-imap, patched: PATCHES.md) owns the wire:
//     commands, literals, responses, STARTTLS.
//   - session.go: one Session per connection: login through
//     tenants.ResolveLogin, folders (CREATE, DELETE, RENAME, SUBSCRIBE,
//     STATUS, APPEND, NAMESPACE), ID (RFC 2971) and QUOTA (RFC 9208);
//     list.go: LIST and LSUB (RFC 5258, 6154).
//   - hub.go: one hub per folder selected in this process keeps the
//     folder's message list as the store has it and hands every change
//     (from this process, or from others through the store's PostgreSQL
//     notifications) to the sessions that have the folder selected.
//   - selected.go: the selected state: each session's own view of the
//     folder's sequence numbers, and its queue of updates (EXISTS,
//     EXPUNGE, FETCH FLAGS, FLAGS), written at the end of commands and
//     during IDLE; STORE, COPY, MOVE, EXPUNGE. fetch.go and search.go:
//     FETCH and SEARCH from the stored metadata.
package imapd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"golang.org/x/sync/semaphore"

	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
)

// Config configures a Server.
type Config struct {
	Store   *store.Store
	Tenants *tenants.Service
	// Sessions ends the sessions of an account disabled, expired or
	// whose password changed; one per process, shared with POP3 and
	// SMTP, run by the caller. Nil: the server runs its own.
	Sessions *tenants.SessionWatch
	Logger   *slog.Logger
	// TLS is used for STARTTLS and implicit TLS; nil turns both off.
	TLS *tls.Config
	// AllowPlaintextAuth allows LOGIN and AUTHENTICATE without TLS, for
	// tests and development only.
	AllowPlaintextAuth bool
	// MaxMessageSize bounds APPEND; default 64 MiB.
	MaxMessageSize int64
	// Connection caps (mailsvc/connlimit): open connections over IMAP and
	// IMAPS together, from one client address (IPv6: one /64), and from
	// one network (a /24 or /48: connlimit.NetFactor times the
	// per-address cap, lifted with it); clients open several per account,
	// one per watched folder. Past a cap the connection gets "* BYE
	// [UNAVAILABLE]" in place of the greeting and is closed; but at the
	// total, or when connections that have not logged in hold
	// connlimit.UnauthShare of it, a new connection evicts the oldest idle
	// one that has not logged in instead. There is no cap per user: with
	// MaxConnectionsPerIP -1, one user may hold the whole total. Zero
	// takes the default; -1 means no cap.
	MaxConnections      int // default 1000
	MaxConnectionsPerIP int // default 20
	// PreAuthTimeout closes a connection that has not logged in this long
	// after it was accepted, whatever it sends meanwhile (NOOP,
	// CAPABILITY); default 60s.
	PreAuthTimeout time.Duration
}

// Server is an IMAP server on the message store.
type Server struct {
	cfg  Config
	log  *slog.Logger
	imap *imapserver.Server
	// extractMem bounds the bytes that part extraction (BODY[n],
	// BINARY[n]) holds at once across all sessions: go-imap's extractors
	// buffer a whole part, so without it a few clients fetching large
	// parts in parallel exhaust memory.
	extractMem *semaphore.Weighted
	// maxSortMessages bounds the messages one SORT or THREAD orders
	// (sort.go); a field so that tests can lower it.
	maxSortMessages int

	ctx    context.Context // ends when the server stops
	cancel context.CancelFunc
	wg     sync.WaitGroup // hub watchers

	watchOnce sync.Once // starts the server's own session watch (see watch)

	hubsMu sync.Mutex
	hubs   map[int64]*hub

	connsMu sync.Mutex
	conns   map[*imapserver.Conn]struct{} // those with a Session, for Shutdown
	nextID  atomic.Uint64

	limiter *connlimit.Limiter
	refuser *connlimit.Refuser

	closeOnce sync.Once
}

// New returns a server; Serve and ServeTLS run it on listeners.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Tenants == nil {
		return nil, errors.New("imapd: a store and a tenants service are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 64 << 20
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = 1000
	}
	if cfg.MaxConnectionsPerIP == 0 {
		cfg.MaxConnectionsPerIP = 20
	}
	if cfg.PreAuthTimeout <= 0 {
		cfg.PreAuthTimeout = time.Minute
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hubs: map[int64]*hub{}, conns: map[*imapserver.Conn]struct{}{},
		limiter: connlimit.New(connlimit.Limits{Total: cfg.MaxConnections, PerIP: cfg.MaxConnectionsPerIP,
			PreAuthTimeout: cfg.PreAuthTimeout}),
		refuser:    &connlimit.Refuser{Log: cfg.Logger, TLS: cfg.TLS, Line: imapRefusal},
		extractMem: semaphore.NewWeighted(maxExtractMem), maxSortMessages: defaultMaxSortMessages}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: s.newSession,
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {},
			imap.CapNamespace: {}, imap.CapUIDPlus: {}, imap.CapESearch: {}, imap.CapSearchRes: {},
			imap.CapListExtended: {}, imap.CapListStatus: {}, imap.CapMove: {}, imap.CapStatusSize: {},
			imap.CapSpecialUse: {}, imap.CapCreateSpecialUse: {},
			imap.CapWithin: {}, imap.CapObjectID: {}, imap.CapPreview: {}, imap.CapSaveDate: {},
			imap.CapBinary: {}, // search.go, objectid.go, preview.go, binary.go
		},
		Logger: libLogger{s.log},
		// go-imap does STARTTLS (pipelined bytes discarded), announces
		// STARTTLS, LOGINDISABLED and AUTH= and refuses logins without
		// TLS.
		TLSConfig:    cfg.TLS,
		InsecureAuth: cfg.AllowPlaintextAuth,
	})
	return s, nil
}

// Serve accepts IMAP connections that may start TLS with STARTTLS.
// Connections past the caps are refused before the greeting.
func (s *Server) Serve(ln net.Listener) error {
	return s.imap.Serve(connlimit.Listen(ln, s.limiter, s.refuser.Func(false)))
}

// ServeTLS accepts IMAP connections over implicit TLS (port 993's way).
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.cfg.TLS == nil {
		return errors.New("imapd: implicit TLS needs a TLS configuration")
	}
	ln = connlimit.Listen(ln, s.limiter, s.refuser.Func(true))
	return s.imap.Serve(tls.NewListener(ln, s.cfg.TLS))
}

// maxExtractMem is the bytes all part extractions may hold at once.
const maxExtractMem = 256 << 20

// imapRefusal answers a connection past a cap with BYE in place of the
// greeting (RFC 9051 7.1.5) and the UNAVAILABLE code (RFC 5530 3).
func imapRefusal(w io.Writer, text string) { fmt.Fprintf(w, "* BYE [UNAVAILABLE] %s\r\n", text) }

// Shutdown says BYE to every client and closes the listeners and
// connections; IMAP sessions are long-lived, so it does not wait for
// clients to log out.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		// BYE between two responses (Conn.Bye waits a moment for one),
		// to all connections at once.
		s.connsMu.Lock()
		var byes sync.WaitGroup
		for c := range s.conns {
			byes.Add(1)
			go func() {
				defer byes.Done()
				c.Bye("Server shutting down")
			}()
		}
		s.connsMu.Unlock()
		byes.Wait()
		if err := s.imap.Close(); err != nil {
			s.log.Debug("close", "err", err)
		}
		s.cancel()
	})
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// watch is the session watch: the configured one, else the server's own,
// started at the first login and stopped with the server.
func (s *Server) watch() *tenants.SessionWatch {
	s.watchOnce.Do(func() {
		if s.cfg.Sessions == nil {
			s.cfg.Sessions = s.cfg.Tenants.NewSessionWatch()
			go s.cfg.Sessions.Run(s.ctx)
		}
	})
	return s.cfg.Sessions
}

func (s *Server) forget(c *imapserver.Conn) {
	s.connsMu.Lock()
	delete(s.conns, c)
	s.connsMu.Unlock()
}

// newSession makes the Session of a new connection, with its own logger.
func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	nc := c.NetConn()
	t, isTLS := nc.(*tls.Conn)
	raw := nc
	if isTLS {
		raw = t.NetConn()
	}
	log := s.log.With("conn", s.nextID.Add(1), "remote", raw.RemoteAddr().String())
	if isTLS {
		log = log.With("tls", "implicit")
	}
	s.connsMu.Lock()
	s.conns[c] = struct{}{}
	s.connsMu.Unlock()
	log.Debug("connected")
	return newSession(s, &connState{remote: raw.RemoteAddr().String(), imap: c}, log), nil, nil
}

// libLogger passes go-imap's messages to slog. Most are a client going
// away mid-command, so they are debug lines; panics are errors.
type libLogger struct{ log *slog.Logger }

func (l libLogger) Printf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	if strings.HasPrefix(msg, "panic") {
		l.log.Error("imap library", "msg", msg)
		return
	}
	l.log.Debug("imap library", "msg", msg)
}
