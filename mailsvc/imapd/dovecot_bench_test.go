package imapd_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// BenchmarkVersusDovecot sends the same IMAP commands, over plain TCP on
// loopback with the same client, to Postdesk (SQLite, and PostgreSQL when
// POSTDESK_TEST_DATABASE_URL is set) and, when POSTDESK_BENCH_DOVECOT is
// "host:port user password", to a Dovecot there; .ci/bench-dovecot sets
// one up and runs this. Each server's INBOX holds the same 10,000
// messages, a third of them \Seen.
func BenchmarkVersusDovecot(b *testing.B) {
	const n = 10000
	// A target's dial opens a connection and reads the greeting; login
	// logs that connection in. The login rows open a connection each
	// time, as a mail client checking for mail does.
	type target struct {
		name  string
		dial  func(b *testing.B) *raw
		login func(r *raw)
	}
	var targets []target
	for _, eng := range tenantstest.Engines {
		if eng == database.Postgres && os.Getenv("POSTDESK_TEST_DATABASE_URL") == "" {
			continue
		}
		var e *env
		targets = append(targets, target{"postdesk-" + string(eng), func(b *testing.B) *raw {
			if e == nil {
				e, _ = bigEnv(b, eng, n, func(c *imapd.Config) { c.AllowPlaintextAuth = true })
			}
			return e.raw(false)
		}, func(r *raw) { r.login("john@example.test") }})
	}
	if spec := os.Getenv("POSTDESK_BENCH_DOVECOT"); spec != "" {
		f := strings.Fields(spec)
		if len(f) != 3 {
			b.Fatalf("POSTDESK_BENCH_DOVECOT=%q: want \"host:port user password\"", spec)
		}
		filled := false
		targets = append(targets, target{"dovecot", func(b *testing.B) *raw {
			if !filled {
				r := tgDial(b, f[0])
				r.expect("L", "LOGIN "+quote(f[1])+" "+quote(f[2]), "OK")
				if lines := r.expect("s", "SELECT INBOX", "OK"); !hasLine(lines, fmt.Sprintf("* %d EXISTS", n)) {
					appendAll(b, r, n)
				}
				r.expect("o", "LOGOUT", "OK")
				filled = true
			}
			return tgDial(b, f[0])
		}, func(r *raw) { r.expect("L", "LOGIN "+quote(f[1])+" "+quote(f[2]), "OK") }})
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			r := tg.dial(b)
			tg.login(r)
			r.expect("s", "SELECT INBOX", "OK")
			// Fresh connections: dial, greeting, LOGIN (and SELECT), LOGOUT.
			for _, op := range []struct {
				name string
				sel  bool
			}{{"login", false}, {"login-select", true}} {
				b.Run(op.name, func(b *testing.B) {
					for b.Loop() {
						c := tg.dial(b)
						tg.login(c)
						if op.sel {
							c.expect("s", "SELECT INBOX", "OK")
						}
						c.expect("o", "LOGOUT", "OK")
						c.conn.Close()
					}
				})
			}
			for _, op := range []struct{ name, cmd string }{
				{"select", "SELECT INBOX"},
				{"fetch-flags", "FETCH 1:* FLAGS"},
				{"fetch-envelope", "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)"},
				{"search-header", "SEARCH HEADER X-Seq 4242"},
				{"search-subject", "UID SEARCH SUBJECT needle"},
				{"fetch-body-100", "FETCH 1:100 BODY.PEEK[]"},
			} {
				b.Run(op.name, func(b *testing.B) {
					for b.Loop() {
						r.expect("x", op.cmd, "OK")
					}
				})
			}
		})
	}
}

// tgDial opens a connection to a server at addr and reads its greeting.
func tgDial(b *testing.B, addr string) *raw {
	c, err := net.Dial("tcp", addr)
	tcheck(b, err, "dial")
	b.Cleanup(func() { c.Close() })
	r := &raw{t: b, conn: c, r: bufio.NewReader(c)}
	if g := r.line(); !strings.HasPrefix(g, "* OK") {
		b.Fatalf("greeting %q", g)
	}
	return r
}

// appendAll fills an empty INBOX with the messages fillFolder delivers to
// Postdesk, pipelined with LITERAL+ (RFC 7888).
func appendAll(b *testing.B, r *raw, n int) {
	const batch = 200
	for start := 0; start < n; start += batch {
		var sb strings.Builder
		end := min(n, start+batch)
		for i := start; i < end; i++ {
			msg := fmt.Sprintf("X-Seq: %d\r\n%s", i+1, msgPlain)
			flags := "()"
			if i%3 == 0 {
				flags = `(\Seen)`
			}
			fmt.Fprintf(&sb, "a%d APPEND INBOX %s {%d+}\r\n%s\r\n", i, flags, len(msg), msg)
		}
		r.send(sb.String())
		for i := start; i < end; i++ {
			if _, done := r.until(fmt.Sprintf("a%d", i)); !strings.Contains(done, " OK") {
				b.Fatalf("append %d: %q", i, done)
			}
		}
	}
	if lines := r.expect("s", "SELECT INBOX", "OK"); !hasLine(lines, fmt.Sprintf("* %d EXISTS", n)) {
		b.Fatalf("after filling: %q", lines)
	}
}
