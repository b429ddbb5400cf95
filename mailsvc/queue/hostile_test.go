package queue_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/dsn"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// hostileMX is a TCP server on loopback that speaks as serve says: a
// remote MX that does not play by the rules.
type hostileMX struct {
	port int

	mu    sync.Mutex
	conns []net.Conn
	data  bool // a client got as far as sending message data
}

func newHostileMX(t *testing.T, serve func(h *hostileMX, c net.Conn, r *bufio.Reader)) *hostileMX {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "hostile listen")
	h := &hostileMX{port: l.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			go func() {
				defer c.Close()
				serve(h, c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			c.Close()
		}
	})
	return h
}

func (h *hostileMX) connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *hostileMX) gotData() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.data
}

// flood writes unit over and over until the client hangs up.
func flood(c net.Conn, unit string) {
	b := []byte(strings.Repeat(unit, 64))
	for {
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

// script answers commands with reply(verb), after greeting; reply returns
// "" to hang up. Message data is read to its end and answered with
// reply(".").
func script(greeting string, reply func(verb string) string) func(h *hostileMX, c net.Conn, r *bufio.Reader) {
	return func(h *hostileMX, c net.Conn, r *bufio.Reader) {
		if _, err := io.WriteString(c, greeting); err != nil {
			return
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			verb := strings.ToUpper(strings.Fields(line + " x")[0])
			out := reply(verb)
			if out == "" {
				return
			}
			if _, err := io.WriteString(c, out); err != nil {
				return
			}
			if verb == "DATA" && strings.HasPrefix(out, "354") {
				// Data is noted once a line of it arrives: a client
				// that gives up on the 354 reply sends none.
				for line != ".\r\n" {
					if line, err = r.ReadString('\n'); err != nil {
						return
					}
					h.mu.Lock()
					h.data = true
					h.mu.Unlock()
				}
				if _, err := io.WriteString(c, reply(".")); err != nil {
					return
				}
			}
		}
	}
}

// firstAttempt waits for the first attempt at the one queued message and
// returns its first recipient; it fails the test if the message left the
// queue instead (delivered).
func firstAttempt(t *testing.T, e *env, q *queue.Queue) queueadmin.Recipient {
	t.Helper()
	var r *queueadmin.Recipient
	waitFor(t, "first attempt", func() bool {
		ms := e.queued(q)
		if len(ms) == 0 {
			return true
		}
		// The listing is not one snapshot: a message being finished
		// can show without recipients.
		if len(ms[0].Recipients) > 0 && ms[0].Recipients[0].Attempts == 1 {
			r = &ms[0].Recipients[0]
		}
		return r != nil
	})
	if r == nil {
		t.Fatalf("the message left the queue after one attempt (delivered)")
	}
	return *r
}

// longReply is a well-formed multi-line reply of about n bytes.
func longReply(code string, n int) string {
	line := code + "-" + strings.Repeat("x", 70) + "\r\n"
	return strings.Repeat(line, n/len(line)) + code + " end\r\n"
}

// An MX that sends endless replies, one endless line or more than a
// session may read is cut off at once, whether the queue's own start of
// the session or go-smtp's client reads it; the recipient is deferred
// with the reason, and its memory never holds more than the limits.
func TestHostileReplies(t *testing.T) {
	pad := strings.Repeat("x", 70)
	plain := func(verb string) string {
		switch verb {
		case "EHLO":
			return "250 hostile.test\r\n"
		case "MAIL", "RCPT", ".":
			return "250 ok\r\n"
		case "DATA":
			return "354 go ahead\r\n"
		}
		return "221 bye\r\n"
	}
	tests := []struct {
		name  string
		serve func(h *hostileMX, c net.Conn, r *bufio.Reader)
		want  string
	}{
		{"endless greeting", func(h *hostileMX, c net.Conn, r *bufio.Reader) {
			flood(c, "220-"+pad+"\r\n")
		}, "mx.remote.test sent a reply longer than"},
		{"endless greeting line", func(h *hostileMX, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "220 ")
			flood(c, "x")
		}, "mx.remote.test sent a reply line longer than"},
		{"endless EHLO reply", func(h *hostileMX, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "220 hostile.test\r\n")
			r.ReadString('\n')
			flood(c, "250-"+pad+"\r\n")
		}, "mx.remote.test sent a reply longer than"},
		{"endless reply to MAIL", script("220 hostile.test\r\n", func(verb string) string {
			if verb == "MAIL" {
				// More than any reply may hold; a flood would do
				// the same, but blocks this script.
				return longReply("250", 1<<20)
			}
			return plain(verb)
		}), "mx.remote.test sent a reply longer than"},
		{"too much in one session", script(longReply("220", 60<<10), func(verb string) string {
			if r := plain(verb); verb != "QUIT" {
				return longReply(r[:3], 60<<10)
			}
			return "221 bye\r\n"
		}), "mx.remote.test sent more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				e := newEnv(t, db)
				h := newHostileMX(t, tc.serve)
				q := e.queueWith(db, func(o *queue.Options) {
					o.RemotePort = h.port
					// Without limits the queue reads until this ends.
					o.CommandTimeout = 2 * time.Second
				})
				e.enqueue(q, e.submission("bob@remote.test"), message("hostile"))
				e.run(q)
				r := firstAttempt(t, e, q)
				if !strings.Contains(r.LastError, tc.want) {
					t.Errorf("last error %q, want %q", r.LastError, tc.want)
				}
				if h.gotData() {
					t.Errorf("message data sent to a server that broke the limits")
				}
			})
		})
	}
}

// One hostile domain holds a worker only so long: an attempt dials at most
// five of its addresses and holds at most two sessions (Postfix's
// smtp_mx_address_limit and smtp_mx_session_limit), looks up no more
// hosts than it may dial, gives up on a server that does not greet, and
// ends when the attempt's time is up.
func TestHostileDomainLimits(t *testing.T) {
	hangUp := func(h *hostileMX, c net.Conn, r *bufio.Reader) {}
	busy := script("220 hostile.test\r\n", func(verb string) string {
		switch verb {
		case "EHLO":
			return "250 hostile.test\r\n"
		case "MAIL":
			return "451 4.3.0 busy\r\n"
		}
		return "221 bye\r\n"
	})
	silent := func(h *hostileMX, c net.Conn, r *bufio.Reader) { io.Copy(io.Discard, r) }
	greetThenSilent := func(h *hostileMX, c net.Conn, r *bufio.Reader) {
		io.WriteString(c, "220 hostile.test\r\n")
		io.Copy(io.Discard, r)
	}
	tests := []struct {
		name      string
		serve     func(h *hostileMX, c net.Conn, r *bufio.Reader)
		mxHosts   int
		opts      func(o *queue.Options)
		wantConns int
		want      string
	}{
		{"address limit", hangUp, 20, nil, 5, "connection to mx05.hostile.test failed"},
		{"session limit", busy, 20, nil, 2, "451 4.3.0 busy"},
		// The command timeout alone would hold the worker for a minute.
		{"greeting timeout", silent, 1, func(o *queue.Options) {
			o.CommandTimeout, o.GreetingTimeout = time.Minute, 300*time.Millisecond
		}, 1, "connection to mx01.hostile.test timed out"},
		{"attempt timeout", greetThenSilent, 1, func(o *queue.Options) {
			o.CommandTimeout, o.AttemptTimeout = time.Minute, 500*time.Millisecond
		}, 1, "connection to mx01.hostile.test timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				e := newEnv(t, db)
				h := newHostileMX(t, tc.serve)
				for i := 1; i <= tc.mxHosts; i++ {
					e.dns.add(fmt.Sprintf("hostile.test. 300 IN MX %d mx%02d.hostile.test.", i, i))
					e.dns.add(fmt.Sprintf("mx%02d.hostile.test. 300 IN A 127.0.0.1", i))
				}
				q := e.queueWith(db, func(o *queue.Options) {
					o.RemotePort = h.port
					if tc.opts != nil {
						tc.opts(o)
					}
				})
				e.enqueue(q, e.submission("bob@hostile.test"), message("hostile domain"))
				e.run(q)
				r := firstAttempt(t, e, q)
				if !strings.Contains(r.LastError, tc.want) {
					t.Errorf("last error %q, want %q", r.LastError, tc.want)
				}
				if n := h.connections(); n != tc.wantConns {
					t.Errorf("%d connections in one attempt, want %d", n, tc.wantConns)
				}
				// A and AAAA of each host dialled, none of the others
				// (the domain's one MTA-STS TXT lookup aside).
				if n, want := e.dns.queries(".hostile.test.")-e.dns.queries("_mta-sts.hostile.test."), 2*tc.wantConns; n > want {
					t.Errorf("%d address queries, want at most %d", n, want)
				}
			})
		})
	}
}

// failingLocal fails local delivery to one address with an error that
// names our own insides.
type failingLocal struct {
	queue.LocalDeliverer
	rcpt string
}

const internalError = "insert message rows: write /var/lib/postdesk/blobs/ab/cdef: disk I/O error"

func (f *failingLocal) DeliverLocal(ctx context.Context, from string, rcpts []string, body io.Reader) error {
	if len(rcpts) == 1 && rcpts[0] == f.rcpt {
		return fmt.Errorf("deliver to %s: %s", f.rcpt, internalError)
	}
	return f.LocalDeliverer.DeliverLocal(ctx, from, rcpts, body)
}

// A DSN to an outside sender says what went wrong in general terms, or
// quotes the remote server: never our own error text (the resolver's
// address, our side of a connection, database errors, paths). That goes
// to the log, and the queue page shows the general reason too.
func TestDSNHidesInternalErrors(t *testing.T) {
	closedPort := func(t *testing.T, network string) int {
		if network == "udp" {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			tcheck(t, err, "listen")
			pc.Close()
			return pc.LocalAddr().(*net.UDPAddr).Port
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		tcheck(t, err, "listen")
		l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, e *env, o *queue.Options)
		want    string // the DSN's diagnostic
		wantLog string // the detail, in the log only
	}{
		{"DNS server unreachable", func(t *testing.T, e *env, o *queue.Options) {
			o.DNSServer = fmt.Sprintf("127.0.0.1:%d", closedPort(t, "udp"))
		}, "DNS lookup failed for remote.test", "read udp 127.0.0.1:"},
		{"connection refused", func(t *testing.T, e *env, o *queue.Options) {
			o.RemotePort = closedPort(t, "tcp")
		}, "connection to mx.remote.test refused", "dial tcp 127.0.0.1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				e := newEnv(t, db)
				q := e.queueWith(db, func(o *queue.Options) { tc.setup(t, e, o) })
				e.enqueue(q, e.submission("bob@remote.test"), message("internal"))
				e.run(q)
				if r := firstAttempt(t, e, q); r.LastError != tc.want {
					t.Errorf("queue page shows %q, want %q", r.LastError, tc.want)
				}
				e.clock.Advance(5*24*time.Hour + time.Minute)
				q.Kick()
				waitFor(t, "expiry DSN", func() bool { return len(e.inbox("john")) == 1 })
				rep, err := dsn.Parse(strings.NewReader(e.inbox("john")[0]))
				tcheck(t, err, "parse DSN")
				r := rep.Recipients[0]
				if r.Status != "4.4.7" || !strings.HasSuffix(r.Diagnostic, "last error: "+tc.want) {
					t.Errorf("DSN recipient %+v, want diagnostic ending %q", r, tc.want)
				}
				for _, leak := range []string{"127.0.0.1:", "udp", "tcp", "dial"} {
					if strings.Contains(r.Diagnostic, leak) || strings.Contains(rep.Text, leak) {
						t.Errorf("DSN shows %q: %q / %q", leak, r.Diagnostic, rep.Text)
					}
				}
				if !strings.Contains(e.log.String(), tc.wantLog) {
					t.Errorf("log lacks the detail %q", tc.wantLog)
				}
			})
		})
	}

	// Local delivery (the archive copy) never bounces, but its error
	// reaches the queue page, which a domain's postmaster reads.
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		q := e.queueLocal(db, &failingLocal{LocalDeliverer: e.local, rcpt: "archive@local.test"}, nil)
		e.settings(q, func(s *queueadmin.Settings) { s.ArchiveAddress = "archive@local.test" })
		e.enqueue(q, e.submission("bob@remote.test"), message("archived"))
		e.run(q)
		waitFor(t, "archive attempt", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && len(ms[0].Recipients) == 1 && ms[0].Recipients[0].Attempts == 1
		})
		if r := e.queued(q)[0].Recipients[0]; r.LastError != "local delivery failed temporarily" {
			t.Errorf("queue page shows %q", r.LastError)
		}
		if !strings.Contains(e.log.String(), internalError) {
			t.Errorf("log lacks the local error")
		}
	})
}
