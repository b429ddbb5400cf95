package connlimit

import (
	"net"
	"time"
)

// RefuseFunc answers a connection refused with err (ErrTotal, ErrPerIP or
// ErrPerNet) in the protocol's words, e.g. SMTP's "421 4.7.0". It runs on
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
// until it is closed, as a *Conn. A connection past a cap is handed to
// refuse and closed, and Accept goes on to the next one: it never waits
// for a connection to end.
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
		cc, err := l.lim.Acquire(c)
		if err == nil {
			return cc, nil
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
