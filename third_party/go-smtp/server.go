package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"
)

var ErrServerClosed = errors.New("smtp: server already closed")

// Logger interface is used by Server to report unexpected internal errors.
type Logger interface {
	Printf(format string, v ...interface{})
	Println(v ...interface{})
}

// A SMTP server.
type Server struct {
	// The type of network, "tcp" or "unix".
	Network string
	// TCP or Unix address to listen on.
	Addr string
	// The server TLS configuration.
	TLSConfig *tls.Config
	// Enable LMTP mode, as defined in RFC 2033.
	LMTP bool

	Domain            string
	MaxRecipients     int
	MaxMessageBytes   int64
	MaxLineLength     int
	AllowInsecureAuth bool
	Debug             io.Writer
	ErrorLog          Logger
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration

	// StrictCRLF refuses a message holding a CR or LF that is not part of
	// a CRLF pair (RFC 5321 2.3.8), as Postfix's smtpd_forbid_bare_newline
	// does against SMTP smuggling: the DATA reader reads to the real
	// <CRLF>.<CRLF> and then returns ErrBareLineEnding instead of io.EOF.
	//
	// postdesk: added.
	StrictCRLF bool

	// MaxCommands closes a connection with 421 after this many commands
	// (0: no limit).
	//
	// postdesk: added.
	MaxCommands int

	// MaxDataLineLength is the longest line, in octets with its line
	// ending, accepted inside DATA, where MaxLineLength then does not
	// apply (it stays the limit of command lines). A message with a
	// longer line is read to its real end of data and refused with
	// ErrDataLineTooLong (554 5.6.0), the connection kept. 0 keeps
	// upstream's behaviour: MaxLineLength applies inside DATA too, and a
	// longer line ends the connection.
	//
	// postdesk: added.
	MaxDataLineLength int

	// MaxCommandLineLength bounds a command line, in octets with its CRLF
	// (RFC 5321 4.5.3.1.4 sets 512). A longer line, up to MaxLineLength,
	// is answered 500 5.5.2 and ignored, and the session goes on; a line
	// past MaxLineLength still ends the connection. MAIL and RCPT may be
	// longer by what the parameters of the extensions this package
	// implements add (see commandLineLimit), and AUTH, whose initial
	// response carries SASL data, is bounded by MaxLineLength alone. 0: no
	// bound but MaxLineLength.
	//
	// postdesk: added.
	MaxCommandLineLength int

	// DisableCHUNKING stops advertising CHUNKING (RFC 3030) and refuses
	// BDAT with 502 5.5.1 after discarding its chunk, so that every
	// message comes through the DATA reader (StrictCRLF and
	// MaxDataLineLength apply to DATA only).
	//
	// postdesk: added.
	DisableCHUNKING bool

	// Advertise SMTPUTF8 (RFC 6531) capability.
	// Should be used only if backend supports it.
	EnableSMTPUTF8 bool

	// Advertise REQUIRETLS (RFC 8689) capability.
	// Should be used only if backend supports it.
	EnableREQUIRETLS bool

	// Advertise BINARYMIME (RFC 3030) capability.
	// Should be used only if backend supports it.
	EnableBINARYMIME bool

	// Advertise DSN (RFC 3461) capability.
	// Should be used only if backend supports it.
	EnableDSN bool

	// Advertise RRVS (RFC 7293) capability.
	// Should be used only if backend supports it.
	EnableRRVS bool

	// Advertise DELIVERBY (RFC 2852) capability.
	// Should be used only if backend supports it.
	EnableDELIVERBY bool
	// The minimum time, with seconds precision, that a client
	// may specify in the BY argument with return mode.
	// A zero value indicates no set minimum.
	// Only use if DELIVERBY is enabled.
	MinimumDeliverByTime time.Duration

	// Advertise MT-PRIORITY (RFC 6710) capability.
	// Should only be used if backend supports it.
	EnableMTPRIORITY bool
	// The priority profile mapping as defined
	// in RFC 6710 section 10.2.
	//
	// Default value of NONE to advertise no specific profile.
	MtPriorityProfile PriorityProfile

	// The server backend.
	Backend Backend

	wg   sync.WaitGroup
	done chan struct{}

	locker    sync.Mutex
	listeners []net.Listener
	conns     map[*Conn]struct{}
}

// New creates a new SMTP server.
func NewServer(be Backend) *Server {
	return &Server{
		// Doubled maximum line length per RFC 5321 (Section 4.5.3.1.6)
		MaxLineLength: 2000,

		Backend:  be,
		done:     make(chan struct{}, 1),
		ErrorLog: log.New(os.Stderr, "smtp/server ", log.LstdFlags),
		conns:    make(map[*Conn]struct{}),
	}
}

// Serve accepts incoming connections on the Listener l.
func (s *Server) Serve(l net.Listener) error {
	s.locker.Lock()
	s.listeners = append(s.listeners, l)
	s.locker.Unlock()

	var tempDelay time.Duration // how long to sleep on accept failure

	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				// we called Close()
				return nil
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Temporary() {
				if tempDelay == 0 {
					tempDelay = 5 * time.Millisecond
				} else {
					tempDelay *= 2
				}
				if max := 1 * time.Second; tempDelay > max {
					tempDelay = max
				}
				s.ErrorLog.Printf("accept error: %s; retrying in %s", err, tempDelay)
				time.Sleep(tempDelay)
				continue
			}
			return err
		}

		s.wg.Add(1)
		go func() {
			defer s.wg.Done()

			err := s.handleConn(newConn(c, s))
			if err != nil {
				s.ErrorLog.Printf("error handling %v: %s", c.RemoteAddr(), err)
			}
		}()
	}
}

func (s *Server) handleConn(c *Conn) error {
	s.locker.Lock()
	s.conns[c] = struct{}{}
	s.locker.Unlock()

	defer func() {
		c.Close()

		s.locker.Lock()
		delete(s.conns, c)
		s.locker.Unlock()
	}()

	if tlsConn, ok := c.conn.(*tls.Conn); ok {
		if d := s.ReadTimeout; d != 0 {
			c.conn.SetReadDeadline(time.Now().Add(d))
		}
		if d := s.WriteTimeout; d != 0 {
			c.conn.SetWriteDeadline(time.Now().Add(d))
		}
		if err := tlsConn.Handshake(); err != nil {
			return err
		}
	}

	c.greet()

	for {
		line, err := c.readLine()
		if err == nil && s.MaxCommands > 0 {
			// postdesk: a limit on commands per connection.
			c.commands++
			if c.commands > s.MaxCommands {
				c.writeResponse(421, EnhancedCode{4, 7, 0}, "Too many commands, closing connection")
				return nil
			}
		}
		if err == nil {
			cmd, arg, err := parseCmd(line)
			// postdesk: Server.MaxCommandLineLength (a line that does
			// not parse gets the base bound); the line read lacks its
			// CRLF.
			if limit := s.commandLineLimit(cmd); limit > 0 && len(line)+2 > limit {
				c.protocolError(500, EnhancedCode{5, 5, 2}, "Line too long")
				continue
			}
			if err != nil {
				c.protocolError(501, EnhancedCode{5, 5, 2}, "Bad command")
				continue
			}

			c.handle(cmd, arg)
		} else {
			if err == io.EOF || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if err == ErrTooLongLine {
				c.writeResponse(500, EnhancedCode{5, 4, 0}, "Too long line, closing connection")
				return nil
			}

			if neterr, ok := err.(net.Error); ok && neterr.Timeout() {
				c.writeResponse(421, EnhancedCode{4, 4, 2}, "Idle timeout, bye bye")
				return nil
			}

			c.writeResponse(421, EnhancedCode{4, 4, 0}, "Connection error, sorry")
			return err
		}
	}
}

// paramLineAllowance is what MAIL and RCPT may add to
// MaxCommandLineLength: each extension that defines parameters raises the
// limit by their length (RFC 5321 4.5.3.1.4), and the largest are AUTH=
// (500, RFC 4954 3), ORCPT (500, RFC 3461 4) and ENVID (100, RFC 3461 4);
// with SIZE (26, RFC 1870), BODY, RET, NOTIFY, SMTPUTF8, REQUIRETLS, BY,
// MT-PRIORITY and RRVS, neither command needs more than about 750 octets
// beyond the base.
//
// postdesk: added.
const paramLineAllowance = 1024

// commandLineLimit is the longest line cmd may come on, CRLF included;
// 0 means MaxLineLength alone bounds it.
//
// postdesk: added, with Server.MaxCommandLineLength.
func (s *Server) commandLineLimit(cmd string) int {
	if s.MaxCommandLineLength <= 0 {
		return 0
	}
	switch cmd { // upper case, from parseCmd
	case "AUTH":
		// RFC 4954 4: SASL responses can be long (12288 octets is named
		// as a sufficient limit), and clients send tokens such as
		// XOAUTH2's or GSSAPI's as initial responses beyond 512.
		return 0
	case "MAIL", "RCPT":
		return s.MaxCommandLineLength + paramLineAllowance
	}
	return s.MaxCommandLineLength
}

func (s *Server) network() string {
	if s.Network != "" {
		return s.Network
	}
	if s.LMTP {
		return "unix"
	}
	return "tcp"
}

// ListenAndServe listens on the network address s.Addr and then calls Serve
// to handle requests on incoming connections.
//
// If s.Addr is blank and LMTP is disabled, ":smtp" is used.
func (s *Server) ListenAndServe() error {
	network := s.network()

	addr := s.Addr
	if !s.LMTP && addr == "" {
		addr = ":smtp"
	}

	l, err := net.Listen(network, addr)
	if err != nil {
		return err
	}

	return s.Serve(l)
}

// ListenAndServeTLS listens on the TCP network address s.Addr and then calls
// Serve to handle requests on incoming TLS connections.
//
// If s.Addr is blank and LMTP is disabled, ":smtps" is used.
func (s *Server) ListenAndServeTLS() error {
	network := s.network()

	addr := s.Addr
	if !s.LMTP && addr == "" {
		addr = ":smtps"
	}

	l, err := tls.Listen(network, addr, s.TLSConfig)
	if err != nil {
		return err
	}

	return s.Serve(l)
}

// Close immediately closes all active listeners and connections.
//
// Close returns any error returned from closing the server's underlying
// listener(s).
func (s *Server) Close() error {
	select {
	case <-s.done:
		return ErrServerClosed
	default:
		close(s.done)
	}

	var err error
	s.locker.Lock()
	for _, l := range s.listeners {
		if lerr := l.Close(); lerr != nil && err == nil {
			err = lerr
		}
	}

	for conn := range s.conns {
		conn.Close()
	}
	s.locker.Unlock()

	return err
}

// Shutdown gracefully shuts down the server without interrupting any
// active connections. Shutdown works by first closing all open
// listeners and then waiting indefinitely for connections to return to
// idle and then shut down.
// If the provided context expires before the shutdown is complete,
// Shutdown returns the context's error, otherwise it returns any
// error returned from closing the Server's underlying Listener(s).
func (s *Server) Shutdown(ctx context.Context) error {
	select {
	case <-s.done:
		return ErrServerClosed
	default:
		close(s.done)
	}

	var err error
	s.locker.Lock()
	for _, l := range s.listeners {
		if lerr := l.Close(); lerr != nil && err == nil {
			err = lerr
		}
	}
	s.locker.Unlock()

	connDone := make(chan struct{})
	go func() {
		defer close(connDone)
		s.wg.Wait()
	}()

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-connDone:
		return err
	}
}
