package pop3d_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// BenchmarkPOP3VersusDovecot sends the same POP3 commands, over plain TCP
// on loopback with the same client, to Postdesk (SQLite, and PostgreSQL
// when POSTDESK_TEST_DATABASE_URL is set) and, when
// POSTDESK_BENCH_DOVECOT_POP3 is "host:port user password", to a Dovecot
// there; .ci/bench-dovecot sets one up (its maildir filled with the same
// 10,000 messages by the IMAP benchmark, which it runs first). Each row
// opens a connection, logs in, does its work and QUITs, as a mail client
// that polls does.
func BenchmarkPOP3VersusDovecot(b *testing.B) {
	const n = 10000
	type target struct {
		name, addr, user, pass string
	}
	var targets []target
	for _, eng := range tenantstest.Engines {
		if eng == database.Postgres && os.Getenv("POSTDESK_TEST_DATABASE_URL") == "" {
			continue
		}
		e := newEnv(b, tenantstest.Open(b, eng), func(c *pop3d.Config) { c.AllowPlaintextAuth = true })
		fillMaildrop(b, e, n)
		targets = append(targets, target{"postdesk-" + string(eng), e.addr, "john@example.test", password})
	}
	if spec := os.Getenv("POSTDESK_BENCH_DOVECOT_POP3"); spec != "" {
		f := strings.Fields(spec)
		if len(f) != 3 {
			b.Fatalf("POSTDESK_BENCH_DOVECOT_POP3=%q: want \"host:port user password\"", spec)
		}
		targets = append(targets, target{"dovecot", f[0], f[1], f[2]})
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			session := func(b *testing.B, work func(p *conn)) {
				c, err := net.Dial("tcp", tg.addr)
				tcheck(b, err, "dial")
				defer c.Close()
				p := &conn{t: b, c: c, r: bufio.NewReader(c)}
				if g := p.line(); !strings.HasPrefix(g, "+OK") {
					b.Fatalf("greeting %q", g)
				}
				p.cmd("USER "+tg.user, "+OK")
				p.cmd("PASS "+tg.pass, "+OK")
				work(p)
				p.cmd("QUIT", "+OK")
			}
			session(b, func(p *conn) {
				if stat := p.cmd("STAT", "+OK"); !strings.HasPrefix(stat, fmt.Sprintf("+OK %d ", n)) {
					b.Fatalf("STAT %q: want %d messages (fill the maildrop first)", stat, n)
				}
			})
			for _, row := range []struct {
				name string
				work func(p *conn)
			}{
				{"login", func(p *conn) {}},
				{"login-uidl", func(p *conn) { p.cmd("UIDL", "+OK"); p.multi() }},
				{"login-retr-100", func(p *conn) {
					for i := 1; i <= 100; i++ {
						p.cmd(fmt.Sprintf("RETR %d", i), "+OK")
						p.multi()
					}
				}},
			} {
				b.Run(row.name, func(b *testing.B) {
					for b.Loop() {
						session(b, row.work)
					}
				})
			}
		})
	}
}

// fillMaildrop delivers n small messages to john's INBOX, 500 to a
// transaction, each with its own X-Seq header.
func fillMaildrop(b *testing.B, e *env, n int) {
	ctx := context.Background()
	for start := 0; start < n; start += 500 {
		p, err := e.st.Blobs().Create(ctx)
		tcheck(b, err, "blob")
		io.WriteString(p, "From: Ann <ann@example.test>\r\nTo: John <john@example.test>\r\nSubject: Hello there\r\n\r\nHello John,\r\nsee you.\r\n")
		var rcpts []store.Rcpt
		for i := start; i < min(n, start+500); i++ {
			rcpts = append(rcpts, store.Rcpt{MailboxID: e.john, Prefix: fmt.Sprintf("X-Seq: %d\r\n", i+1)})
		}
		_, err = e.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: rcpts})
		tcheck(b, err, "deliver")
	}
}
