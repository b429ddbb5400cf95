// Package sieved is Postdesk's ManageSieve server (RFC 5804): users store,
// check, list, fetch, rename, remove and activate their Sieve scripts,
// which delivery runs (mailsvc/delivery, sieve.go). Every rule (names,
// sizes, the number of scripts, compiling, one active script) is
// tenants'; this package speaks the protocol.
//
// It is written by hand: no maintained Go ManageSieve server library
// exists, and the protocol is a few commands over IMAP-like strings.
// Logins go through tenants.ResolveLogin (user@domain or user/domain, the
// shared throttle), with SASL PLAIN only, and only over TLS unless
// plaintext logins are allowed.
package sieved

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
	"github.com/postdesk/postdesk/tenants"
)

// Config configures a Server.
type Config struct {
	Tenants *tenants.Service
	// Sessions ends the sessions of an account disabled, expired or
	// whose password changed; shared with the other servers. Nil: the
	// server runs its own.
	Sessions *tenants.SessionWatch
	Logger   *slog.Logger
	// TLS is used for STARTTLS; nil: no STARTTLS.
	TLS *tls.Config
	// AllowPlaintextAuth allows AUTHENTICATE without TLS, for tests and
	// development only.
	AllowPlaintextAuth bool
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// IdleTimeout ends a session the client leaves silent; default ten
	// minutes.
	IdleTimeout time.Duration
	// Connection caps (mailsvc/connlimit); zero takes the default, -1
	// means no cap.
	MaxConnections      int // default 200
	MaxConnectionsPerIP int // default 10
	// PreAuthTimeout closes a connection that has not logged in this long
	// after it was accepted; default 60s.
	PreAuthTimeout time.Duration
}

// Server is a ManageSieve server.
type Server struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	watchOnce sync.Once

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	nextID    atomic.Uint64

	limiter *connlimit.Limiter
	refuser *connlimit.Refuser
}

// New returns a server; Serve runs it on a listener.
func New(cfg Config) (*Server, error) {
	if cfg.Tenants == nil {
		return nil, errors.New("sieved: a tenants service is required")
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
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = 200
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
		refuser: &connlimit.Refuser{Log: cfg.Logger, Now: cfg.Now, TLS: cfg.TLS, Line: refusal}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// refusal answers a connection past a cap with BYE (TRYLATER) (RFC 5804
// 1.3) in place of the greeting.
func refusal(w io.Writer, text string) { fmt.Fprintf(w, "BYE (TRYLATER) %s\r\n", quote(text)) }

// watch is the session watch: the configured one, else the server's own.
func (s *Server) watch() *tenants.SessionWatch {
	s.watchOnce.Do(func() {
		if s.cfg.Sessions == nil {
			s.cfg.Sessions = s.cfg.Tenants.NewSessionWatch()
			go s.cfg.Sessions.Run(s.ctx)
		}
	})
	return s.cfg.Sessions
}

// Serve accepts ManageSieve connections (STARTTLS; RFC 5804 has no
// implicit-TLS port).
func (s *Server) Serve(ln net.Listener) error {
	ln = connlimit.Listen(ln, s.limiter, s.refuser.Func(false))
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
			s.handle(c)
		}()
	}
}

// Shutdown stops accepting, ends every session and waits for them, or for
// ctx.
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
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
