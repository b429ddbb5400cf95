package connlimit

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// Refuser answers connections refused at a cap the same way for every
// protocol: over TLS on an implicit-TLS listener, one line in place of the
// greeting, and a log line at most every ten seconds with the count since
// the last one (so a flood doesn't flood the log).
type Refuser struct {
	Log *slog.Logger
	Now func() time.Time
	// TLS is the server's TLS configuration, used when a refused
	// connection arrived on an implicit-TLS listener.
	TLS *tls.Config
	// Line writes the protocol's refusal; text says which cap was hit.
	Line func(w io.Writer, text string)

	refused atomic.Int64 // refusals since the last log line
	logged  atomic.Int64 // when that line was written, Unix seconds
}

// Func returns the RefuseFunc for a listener, implicit TLS or not.
func (r *Refuser) Func(implicitTLS bool) RefuseFunc {
	return func(c net.Conn, err error) { r.refuse(c, err, implicitTLS) }
}

func (r *Refuser) refuse(c net.Conn, err error, implicitTLS bool) {
	text := "Too many connections, try again later"
	switch {
	case errors.Is(err, ErrPerIP):
		text = "Too many connections from your address, try again later"
	case errors.Is(err, ErrPerNet):
		text = "Too many connections from your network, try again later"
	}
	n := r.refused.Add(1)
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	sec := now().Unix()
	if last := r.logged.Load(); sec-last >= 10 && r.logged.CompareAndSwap(last, sec) {
		r.refused.Add(-n)
		if r.Log != nil {
			r.Log.Warn("connections refused at the connection cap", "count", n, "last_remote", c.RemoteAddr().String(), "cap", err.Error())
		}
	}
	if implicitTLS {
		tc := tls.Server(c, r.TLS)
		if tc.Handshake() != nil {
			return
		}
		c = tc
	}
	r.Line(c, text)
}
