// Package connlimit caps the connections a server holds open, in total,
// per client address and per client network, so that neither one client
// nor many can use up the process's memory and file descriptors, and
// bounds how long and how many connections may stay unauthenticated, so
// that a flood of idle connections can't shut logins out (Postfix's
// smtpd_client_connection_count_limit, Dovecot's
// mail_max_userip_connections and its login processes, which kill the
// oldest connection that has not logged in when they are full). SMTP, IMAP
// and POP3 use it alike.
//
// A server wraps its listener (Listen): a connection past the cap of its
// address or its network is refused at once, with the protocol's own
// words; at the total (or when unauthenticated connections hold
// UnauthShare of it) a new connection evicts the oldest idle
// unauthenticated one instead, and is refused only when there is none.
// Accept never waits. The protocol calls Authenticated when a connection
// logs in; one that has not within PreAuthTimeout is closed, whatever it
// sends meanwhile. Idle means not marked busy (SetBusy, Busy): the
// protocols mark a login being checked and an SMTP message's data, the
// work a client can't repeat at will, so neither is cut off halfway.
package connlimit

import (
	"container/list"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Limits are a Limiter's caps; zero or less means no cap, except where
// said.
type Limits struct {
	Total int // open connections
	PerIP int // open connections from one address (IPv6: one /64)
	// PerNet caps the open connections from one /24 (IPv4) or /48 (IPv6),
	// so that a client holding a whole network can't take the total
	// address by address. Zero means NetFactor times PerIP; it is never
	// below PerIP, and there is no cap when PerIP has none.
	PerNet int
	// PreAuthTimeout closes a connection that has not called
	// Authenticated this long after it was accepted (at its next idle
	// moment, see Conn.SetBusy); zero or less: no limit.
	PreAuthTimeout time.Duration
}

// NetFactor is the default cap per network as a multiple of the cap per
// address: room for a few hosts behind one provider's /24 or one site's
// /48 (an office, a university's NAT pool) at their full per-address
// share, yet well below a total of hundreds.
const NetFactor = 4

// UnauthShare is the share of Total (in percent) that connections which
// have not authenticated may hold; past it, and at the total, a new
// connection evicts the oldest idle unauthenticated one. The rest is kept
// for connections that have logged in, which are never evicted.
const UnauthShare = 80

// Errors from Acquire, for the protocol to word its refusal.
var (
	ErrTotal  = errors.New("too many connections")
	ErrPerIP  = errors.New("too many connections from one address")
	ErrPerNet = errors.New("too many connections from one network")
)

// Limiter counts open connections against its Limits. It is safe for
// concurrent use.
type Limiter struct {
	lim       Limits
	maxUnauth int // 0: no cap
	now       func() time.Time

	mu     sync.Mutex
	open   int
	byIP   map[netip.Prefix]int
	byNet  map[netip.Prefix]int
	unauth *list.List // of *Conn, oldest first
}

// New returns a Limiter.
func New(lim Limits) *Limiter {
	if lim.PerIP <= 0 {
		lim.PerNet = 0 // lifted with the cap per address
	} else if lim.PerNet == 0 {
		lim.PerNet = NetFactor * lim.PerIP
	} else if lim.PerNet > 0 && lim.PerNet < lim.PerIP {
		lim.PerNet = lim.PerIP
	}
	l := &Limiter{lim: lim, byIP: map[netip.Prefix]int{}, byNet: map[netip.Prefix]int{}, unauth: list.New()}
	if lim.Total > 0 {
		l.maxUnauth = max(1, lim.Total*UnauthShare/100)
	}
	return l
}

// Acquire counts a connection from remote, which has not authenticated,
// against l and returns it wrapped; Close on the result ends the count. It
// fails with ErrPerIP, ErrPerNet or ErrTotal, counting nothing, when a cap
// is reached; at the total or the unauthenticated share it first closes
// the oldest idle unauthenticated connection, if there is one, to make
// room. An address that is not IP (a Unix socket) counts only towards
// the total.
func (l *Limiter) Acquire(c net.Conn) (*Conn, error) {
	ip, nw, hasKey := prefixOf(c.RemoteAddr())
	cc := &Conn{Conn: c, lim: l, ip: ip, nw: nw, hasKey: hasKey}
	victim, err := l.take(cc)
	if err != nil {
		return nil, err
	}
	if victim != nil {
		victim.evicted.Store(true)
		victim.Conn.Close()
	}
	if d := l.lim.PreAuthTimeout; d > 0 {
		// A net deadline is wall-clock time: so is this timer.
		cc.mu.Lock()
		cc.timer = time.AfterFunc(d, cc.preAuthExpired)
		cc.mu.Unlock()
	}
	return cc, nil
}

func (l *Limiter) take(c *Conn) (victim *Conn, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.hasKey {
		if l.lim.PerIP > 0 && l.byIP[c.ip] >= l.lim.PerIP {
			return nil, ErrPerIP
		}
		if l.lim.PerNet > 0 && l.byNet[c.nw] >= l.lim.PerNet {
			return nil, ErrPerNet
		}
	}
	if (l.lim.Total > 0 && l.open >= l.lim.Total) || (l.maxUnauth > 0 && l.unauth.Len() >= l.maxUnauth) {
		for e := l.unauth.Front(); e != nil; e = e.Next() {
			if v := e.Value.(*Conn); !v.busy.Load() {
				victim = v
				break
			}
		}
		if victim == nil {
			return nil, ErrTotal
		}
		l.giveLocked(victim)
	}
	l.open++
	if c.hasKey {
		l.byIP[c.ip]++
		l.byNet[c.nw]++
	}
	c.elem = l.unauth.PushBack(c)
	c.counted = true
	return victim, nil
}

// giveLocked ends c's count; l.mu is held.
func (l *Limiter) giveLocked(c *Conn) {
	if !c.counted {
		return
	}
	c.counted = false
	l.open--
	if c.hasKey {
		if l.byIP[c.ip]--; l.byIP[c.ip] <= 0 {
			delete(l.byIP, c.ip)
		}
		if l.byNet[c.nw]--; l.byNet[c.nw] <= 0 {
			delete(l.byNet, c.nw)
		}
	}
	if c.elem != nil {
		l.unauth.Remove(c.elem)
		c.elem = nil
	}
}

// Open reports how many connections l counts now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Unauthenticated reports how many of them have not authenticated.
func (l *Limiter) Unauthenticated() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unauth.Len()
}

// prefixOf groups a remote address: one IPv4 address, or the /64 an IPv6
// host usually holds whole; and its network, the /24 or /48.
func prefixOf(a net.Addr) (ip, nw netip.Prefix, ok bool) {
	var addr netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		addr = a.AddrPort().Addr()
	case *net.UDPAddr:
		addr = a.AddrPort().Addr()
	default:
		if a == nil {
			return ip, nw, false
		}
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return ip, nw, false
		}
		addr = ap.Addr()
	}
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return ip, nw, false
	}
	bits, netBits := 32, 24
	if addr.Is6() {
		bits, netBits = 64, 48
	}
	ip, err1 := addr.Prefix(bits)
	nw, err2 := addr.Prefix(netBits)
	return ip, nw, err1 == nil && err2 == nil
}

// Conn is a counted connection; Close ends the count.
type Conn struct {
	net.Conn
	lim    *Limiter
	ip, nw netip.Prefix
	hasKey bool

	// Guarded by lim.mu.
	counted bool
	elem    *list.Element // in lim.unauth while not authenticated

	busy    atomic.Bool // SetBusy
	evicted atomic.Bool

	mu      sync.Mutex
	timer   *time.Timer
	authed  bool
	expired bool // PreAuthTimeout passed while busy: close when idle
}

// SetBusy marks the connection busy, or no longer: while a login is being
// checked, or an SMTP client sends a message's data. A busy connection is
// not idle: it is not evicted, and PreAuthTimeout closes it only once it
// is no longer busy.
func (c *Conn) SetBusy(busy bool) {
	c.busy.Store(busy)
	if busy {
		return
	}
	c.mu.Lock()
	expired := c.expired && !c.authed
	c.mu.Unlock()
	if expired {
		c.Conn.Close()
	}
}

// Authenticated tells the limiter that the connection has logged in: it
// is no longer evicted, nor closed at PreAuthTimeout. Later calls do
// nothing.
func (c *Conn) Authenticated() {
	c.mu.Lock()
	if c.authed {
		c.mu.Unlock()
		return
	}
	c.authed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.lim.mu.Lock()
	if c.elem != nil {
		c.lim.unauth.Remove(c.elem)
		c.elem = nil
	}
	c.lim.mu.Unlock()
}

func (c *Conn) preAuthExpired() {
	c.mu.Lock()
	if c.authed {
		c.mu.Unlock()
		return
	}
	c.expired = true
	c.mu.Unlock()
	if !c.busy.Load() {
		c.Conn.Close()
	}
}

// Evicted reports whether the connection was closed to make room for a
// new one.
func (c *Conn) Evicted() bool { return c.evicted.Load() }

// Close closes the connection and ends its count.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.lim.mu.Lock()
	c.lim.giveLocked(c)
	c.lim.mu.Unlock()
	return c.Conn.Close()
}

// NetConn returns the connection Conn wraps.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Find returns the Conn under nc, looking through wrappers that have a
// NetConn method (crypto/tls's, the protocols' own); nil if there is none.
func Find(nc net.Conn) *Conn {
	for nc != nil {
		if c, ok := nc.(*Conn); ok {
			return c
		}
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		nc = u.NetConn()
	}
	return nil
}

// Authenticated marks the Conn under nc authenticated (Conn.Authenticated),
// if there is one.
func Authenticated(nc net.Conn) {
	if c := Find(nc); c != nil {
		c.Authenticated()
	}
}

// Busy marks the Conn under nc busy (Conn.SetBusy), if there is one, and
// returns the function that marks it idle again: a protocol calls it
// around checking a login, so that the login is neither evicted nor cut
// short by PreAuthTimeout.
func Busy(nc net.Conn) (done func()) {
	c := Find(nc)
	if c == nil {
		return func() {}
	}
	c.SetBusy(true)
	return func() { c.SetBusy(false) }
}
