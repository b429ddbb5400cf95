// Package pop3d is Postdesk's POP3 server (RFC 1939, with CAPA and
// response codes from RFC 2449, STLS from RFC 2595, SASL PLAIN from RFC
// 5034) on the message store. POP3 sees the INBOX only; mail filed into
// other folders through IMAP or webmail stays there.
//
// It is written by hand: there is no maintained POP3 server library for
// Go (the few on GitHub are unmaintained toys without STLS, SASL or
// pipelining), and the protocol is small.
//
// Deletions (DELE) take effect only at QUIT (RFC 1939 6, the UPDATE
// state): a connection that drops deletes nothing. While a session is in
// the TRANSACTION state it holds a lock on the mailbox that ends with the
// session or its process (lock.go), so a second session, in this process
// or another on the same database, gets -ERR [IN-USE].
package pop3d

import (
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

	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
)

// Config configures a Server.
type Config struct {
	Store   *store.Store
	Tenants *tenants.Service
	// Sessions ends the sessions of an account disabled, expired or
	// whose password changed; one per process, shared with IMAP and
	// SMTP, run by the caller. Nil: the server runs its own.
	Sessions *tenants.SessionWatch
	Logger   *slog.Logger
	// TLS is used for STLS and implicit TLS; nil turns both off.
	TLS *tls.Config
	// AllowPlaintextAuth allows USER/PASS and AUTH without TLS, for tests
	// and development only.
	AllowPlaintextAuth bool
	// Hostname is named in the greeting.
	Hostname string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// IdleTimeout ends a session the client leaves silent; default ten
	// minutes (RFC 1939 3).
	IdleTimeout time.Duration
	// Connection caps (mailsvc/connlimit): open connections over POP3 and
	// POP3S together, from one client address (IPv6: one /64), and from
	// one network (a /24 or /48: connlimit.NetFactor times the
	// per-address cap, lifted with it). Past a cap the connection gets
	// "-ERR [SYS/TEMP]" in place of the greeting and is closed; but at the
	// total, or when connections that have not logged in hold
	// connlimit.UnauthShare of it, a new connection evicts the oldest idle
	// one that has not logged in instead. Zero takes the default; -1
	// means no cap.
	MaxConnections      int // default 1000
	MaxConnectionsPerIP int // default 10
	// PreAuthTimeout closes a connection that has not logged in this long
	// after it was accepted, whatever it sends meanwhile; default 60s.
	PreAuthTimeout time.Duration
}

// Server is a POP3 server.
type Server struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	watchOnce sync.Once // starts the server's own session watch (see watch)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	nextID    atomic.Uint64

	limiter *connlimit.Limiter
	refuser *connlimit.Refuser
	locks   *mailboxLocks
}

// New returns a server; Serve and ServeTLS run it on listeners.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Tenants == nil {
		return nil, errors.New("pop3d: a store and a tenants service are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = 1000
	}
	if cfg.MaxConnectionsPerIP == 0 {
		cfg.MaxConnectionsPerIP = 10
	}
	if cfg.PreAuthTimeout <= 0 {
		cfg.PreAuthTimeout = time.Minute
	}
	s := &Server{cfg: cfg, log: cfg.Logger, listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{},
		limiter: connlimit.New(connlimit.Limits{Total: cfg.MaxConnections, PerIP: cfg.MaxConnectionsPerIP,
			PreAuthTimeout: cfg.PreAuthTimeout}),
		refuser: &connlimit.Refuser{Log: cfg.Logger, Now: cfg.Now, TLS: cfg.TLS, Line: pop3Refusal},
		locks:   newMailboxLocks(cfg.Store.DB(), cfg.Logger)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
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

// Serve accepts POP3 connections that may start TLS with STLS.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeTLS accepts POP3 connections over implicit TLS (port 995's way).
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.cfg.TLS == nil {
		return errors.New("pop3d: implicit TLS needs a TLS configuration")
	}
	return s.serve(ln, true)
}

func (s *Server) serve(ln net.Listener, implicitTLS bool) error {
	ln = connlimit.Listen(ln, s.limiter, s.refuser.Func(implicitTLS))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			return err
		}
		delay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.handle(c, implicitTLS)
		}()
	}
}

// pop3Refusal answers a connection past a cap with -ERR [SYS/TEMP] (RFC
// 3206) in place of the greeting.
func pop3Refusal(w io.Writer, text string) { fmt.Fprintf(w, "-ERR [SYS/TEMP] %s\r\n", text) }

// Shutdown stops accepting, ends every session (deleting nothing: only
// QUIT deletes) and waits for them, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		for ln := range s.listeners {
			ln.Close()
		}
		s.cancel()
		for c := range s.conns {
			c.SetDeadline(time.Now())
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.locks.close()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
