// Package connlimit caps the connections a server holds open, in total and
// per client address, so that neither one client nor many can use up the
// process's memory and file descriptors (Postfix's
// smtpd_client_connection_count_limit, Dovecot's
// mail_max_userip_connections). SMTP, IMAP and POP3 use it alike.
//
// A Limiter counts; a child Limiter (Child) has caps of its own and counts
// against its parent's too, so that several listeners share one total
// while each keeps its own cap per address. A server either wraps its
// listener (Listen), which refuses a connection past a cap at once, with
// the protocol's own words, and never makes Accept wait; or it calls
// Acquire itself and the release function when the connection ends.
package connlimit

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Limits are a Limiter's caps; zero or less means no cap.
type Limits struct {
	Total int // open connections
	PerIP int // open connections from one address (IPv6: one /64)
}

// Errors from Acquire, for the protocol to word its refusal.
var (
	ErrTotal = errors.New("too many connections")
	ErrPerIP = errors.New("too many connections from one address")
)

// Limiter counts open connections against its Limits and its parent's.
// It is safe for concurrent use.
type Limiter struct {
	lim    Limits
	parent *Limiter

	mu   sync.Mutex
	open int
	byIP map[netip.Prefix]int
}

// New returns a Limiter with no parent.
func New(lim Limits) *Limiter {
	return &Limiter{lim: lim, byIP: map[netip.Prefix]int{}}
}

// Child returns a Limiter with its own caps whose connections also count
// against l's.
func (l *Limiter) Child(lim Limits) *Limiter {
	c := New(lim)
	c.parent = l
	return c
}

// Acquire counts a connection from remote against l and its ancestors. It
// fails with ErrPerIP or ErrTotal, counting nothing, when a cap is
// reached; otherwise release ends the count (later calls do nothing).
// An address that is not IP (a Unix socket) counts only towards totals.
func (l *Limiter) Acquire(remote net.Addr) (release func(), err error) {
	key, hasKey := prefixOf(remote)
	var taken []*Limiter
	for x := l; x != nil; x = x.parent {
		if err := x.take(key, hasKey); err != nil {
			for _, t := range taken {
				t.give(key, hasKey)
			}
			return nil, err
		}
		taken = append(taken, x)
	}
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			for _, t := range taken {
				t.give(key, hasKey)
			}
		}
	}, nil
}

func (l *Limiter) take(key netip.Prefix, hasKey bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if hasKey && l.lim.PerIP > 0 && l.byIP[key] >= l.lim.PerIP {
		return ErrPerIP
	}
	if l.lim.Total > 0 && l.open >= l.lim.Total {
		return ErrTotal
	}
	l.open++
	if hasKey {
		l.byIP[key]++
	}
	return nil
}

func (l *Limiter) give(key netip.Prefix, hasKey bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if hasKey {
		if l.byIP[key]--; l.byIP[key] <= 0 {
			delete(l.byIP, key)
		}
	}
}

// Open reports how many connections l counts now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// prefixOf groups a remote address: one IPv4 address, or the /64 an IPv6
// host usually holds whole.
func prefixOf(a net.Addr) (netip.Prefix, bool) {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.AddrPort().Addr()
	case *net.UDPAddr:
		ip = a.AddrPort().Addr()
	default:
		if a == nil {
			return netip.Prefix{}, false
		}
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Prefix{}, false
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return netip.Prefix{}, false
	}
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	return p, err == nil
}

// RefuseFunc answers a connection refused with err (ErrTotal or
// ErrPerIP) in the protocol's words, e.g. SMTP's "421 4.7.0". It runs on
// its own goroutine with a deadline set on c; the listener closes c
// afterwards.
type RefuseFunc func(c net.Conn, err error)

// Refusals at once beyond which a refused connection is closed without a
// word, and the time one may take: refusing must cost a flood little.
const (
	maxRefusing   = 64
	refuseTimeout = 5 * time.Second
)

// Listen wraps inner so that every accepted connection is counted by l
// until it is closed. A connection past a cap is handed to refuse and
// closed, and Accept goes on to the next one: it never waits for a
// connection to end.
func Listen(inner net.Listener, l *Limiter, refuse RefuseFunc) net.Listener {
	return &listener{Listener: inner, lim: l, refuse: refuse, refusing: make(chan struct{}, maxRefusing)}
}

type listener struct {
	net.Listener
	lim      *Limiter
	refuse   RefuseFunc
	refusing chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, err := l.lim.Acquire(c.RemoteAddr())
		if err == nil {
			return &Conn{Conn: c, release: release}, nil
		}
		l.refuseConn(c, err)
	}
}

func (l *listener) refuseConn(c net.Conn, err error) {
	if l.refuse == nil {
		c.Close()
		return
	}
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		// A net deadline is wall-clock time.
		c.SetDeadline(time.Now().Add(refuseTimeout))
		l.refuse(c, err)
	}()
}

// Conn is a counted connection; Close ends the count.
type Conn struct {
	net.Conn
	release func()
}

// Close closes the connection and ends its count.
func (c *Conn) Close() error {
	c.release()
	return c.Conn.Close()
}

// NetConn returns the connection Conn wraps.
func (c *Conn) NetConn() net.Conn { return c.Conn }
