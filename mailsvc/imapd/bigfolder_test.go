package imapd_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// countingBlobs counts opened bodies.
type countingBlobs struct {
	blob.Store
	opens atomic.Int64
}

func (c *countingBlobs) Open(ctx context.Context, key string) (blob.Reader, error) {
	c.opens.Add(1)
	return c.Store.Open(ctx, key)
}

// fillFolder puts n messages into john's INBOX, 500 to a delivery (one
// body, a per-message prefix with an X-Seq header).
func fillFolder(tb testing.TB, e *env, n int) {
	ctx := context.Background()
	for start := 0; start < n; start += 500 {
		p, err := e.st.Blobs().Create(ctx)
		tcheck(tb, err, "blob")
		io.WriteString(p, msgPlain)
		var rcpts []store.Rcpt
		for i := start; i < min(n, start+500); i++ {
			r := store.Rcpt{MailboxID: e.john, Prefix: fmt.Sprintf("X-Seq: %d\r\n", i+1)}
			if i%3 == 0 {
				r.Flags = store.Flags{store.FlagSeen}
			}
			rcpts = append(rcpts, r)
		}
		_, err = e.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: rcpts})
		tcheck(tb, err, "deliver")
	}
}

// bigEnv is a server whose blob store counts opened bodies.
func bigEnv(tb testing.TB, eng database.Dialect, n int, mod func(*imapd.Config)) (*env, *countingBlobs) {
	db := tenantstest.Open(tb, eng)
	e := newEnv(tb, db, mod)
	files, err := blob.NewFiles(tb.TempDir())
	tcheck(tb, err, "blobs")
	cb := &countingBlobs{Store: files}
	e.st = store.New(db, cb, store.Options{})
	e.srv = e.startServer(mod)
	fillFolder(tb, e, n)
	cb.opens.Store(0)
	return e, cb
}

func TestBigFolder(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			if eng == database.Postgres {
				tenantstest.PostgresURL(t) // skips without a server
			}
			e, cb := bigEnv(t, eng, 10000, nil)
			r := e.raw(true)
			r.login("john@example.test")
			lines := r.expect("s", "SELECT INBOX", "OK")
			if !hasLine(lines, "* 10000 EXISTS") {
				t.Fatalf("select %q", lines)
			}
			start := time.Now()
			lines = r.expect("f", "FETCH 1:* FLAGS", "OK")
			t.Logf("FETCH 1:* FLAGS of 10000 in %v", time.Since(start))
			if len(lines) != 10000 || !strings.HasPrefix(lines[9999], "* 10000 FETCH (FLAGS (") {
				t.Fatalf("fetched %d, last %q", len(lines), lines[len(lines)-1])
			}
			start = time.Now()
			lines = r.expect("h", "SEARCH HEADER X-Seq 4242 SUBJECT hello UNSEEN", "OK")
			t.Logf("header SEARCH over 10000 in %v", time.Since(start))
			if len(lines) != 1 || lines[0] != "* SEARCH 4242" {
				t.Fatalf("search %q", lines)
			}
			lines = r.expect("u", "UID SEARCH 9990:* SEEN", "OK")
			if len(lines) != 1 || lines[0] != "* SEARCH 9991 9994 9997 10000" {
				t.Fatalf("uid search %q", lines)
			}
			if n := cb.opens.Load(); n != 0 {
				t.Fatalf("FETCH FLAGS and header SEARCH opened %d bodies", n)
			}
			r.expect("e", "FETCH 1:* (UID RFC822.SIZE ENVELOPE)", "OK")
			if n := cb.opens.Load(); n != 0 {
				t.Fatalf("FETCH ENVELOPE opened %d bodies", n)
			}
		})
	}
}

func BenchmarkSelect10k(b *testing.B) {
	e, _ := bigEnv(b, database.SQLite, 10000, nil)
	r := e.raw(true)
	r.login("john@example.test")
	for b.Loop() {
		r.expect("s", "SELECT INBOX", "OK")
	}
}

func BenchmarkFetchFlags10k(b *testing.B) {
	e, _ := bigEnv(b, database.SQLite, 10000, nil)
	r := e.raw(true)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
	for b.Loop() {
		r.expect("f", "FETCH 1:* FLAGS", "OK")
	}
}

func BenchmarkFetchEnvelope10k(b *testing.B) {
	e, _ := bigEnv(b, database.SQLite, 10000, nil)
	r := e.raw(true)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
	for b.Loop() {
		r.expect("f", "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)", "OK")
	}
}

func BenchmarkSearchHeader10k(b *testing.B) {
	e, _ := bigEnv(b, database.SQLite, 10000, nil)
	r := e.raw(true)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
	for b.Loop() {
		r.expect("h", "SEARCH HEADER X-Seq 4242", "OK")
	}
}

// BenchmarkIdleConnections opens 1000 connections, each logged in with
// INBOX selected and in IDLE, and reports the memory they hold, server
// and client sides together (the clients are bare TCP connections with a
// 4 KiB read buffer).
func BenchmarkIdleConnections(b *testing.B) {
	const n = 1000
	e, _ := bigEnv(b, database.SQLite, 100, func(c *imapd.Config) {
		c.AllowPlaintextAuth = true
		// All from one address, past the default caps.
		c.MaxConnections, c.MaxConnectionsPerIP = 2*n, 2*n
	})
	for b.Loop() {
		base := runtime.NumGoroutine()
		before := heap()
		conns := make([]net.Conn, 0, n)
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", e.addr)
			tcheck(b, err, "dial")
			br := bufio.NewReader(c)
			fmt.Fprintf(c, "a LOGIN john@example.test %s\r\nb SELECT INBOX\r\nc IDLE\r\n", quote(password))
			for {
				l, err := br.ReadString('\n')
				tcheck(b, err, "read")
				if strings.HasPrefix(l, "+ ") {
					break
				}
			}
			conns = append(conns, c)
		}
		after := heap()
		b.ReportMetric(float64(after-before)/n, "B/conn")
		b.ReportMetric(float64(runtime.NumGoroutine()-base)/n, "goroutines/conn")
		for _, c := range conns {
			c.Close()
		}
		// Wait for the server to let go of them before the next round.
		for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > base && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
