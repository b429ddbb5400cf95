package pop3d_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const password = "Xk9#mq2!pLw7z"

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

type env struct {
	t         testing.TB
	ts        *tenants.Service
	st        *store.Store
	addr      string // STLS
	tlsAddr   string
	certFile  string
	clientTLS *tls.Config
	john      int64
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newEnv(t testing.TB, db *database.DB, mod func(*pop3d.Config)) *env {
	ctx := context.Background()
	e := &env{t: t, ts: tenantstest.Service(db, nil)}
	sc := tenants.SystemScope("test")
	d, _ := address.ParseDomain("example.test")
	_, err := e.ts.CreateDomain(ctx, sc, d, "")
	tcheck(t, err, "domain")
	m, err := e.ts.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: address.Address{Local: "john", Domain: d}, Password: password, Settings: tenants.DefaultMailboxSettings()})
	tcheck(t, err, "mailbox")
	e.john = m.ID
	bs, err := blob.NewFiles(t.TempDir())
	tcheck(t, err, "blobs")
	e.st = store.New(db, bs, store.Options{})
	dir := t.TempDir()
	certs, _, err := tlscert.Open("", "", dir, "localhost")
	tcheck(t, err, "tls")
	e.certFile = filepath.Join(dir, "tls", "selfsigned.crt")
	leaf, _ := certs.Leaf()
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	e.clientTLS = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	cfg := pop3d.Config{Store: e.st, Tenants: e.ts, TLS: certs.Config(),
		Logger: slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := pop3d.New(cfg)
	tcheck(t, err, "server")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	tln, _ := net.Listen("tcp", "127.0.0.1:0")
	e.addr, e.tlsAddr = ln.Addr().String(), tln.Addr().String()
	go srv.Serve(ln)
	go srv.ServeTLS(tln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return e
}

func (e *env) deliver(folder, msg string) {
	p, err := e.st.Blobs().Create(context.Background())
	tcheck(e.t, err, "blob")
	io.WriteString(p, msg)
	res, err := e.st.Deliver(context.Background(), &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: e.john, Folder: folder}}})
	tcheck(e.t, err, "deliver")
	tcheck(e.t, res.Errs[0], "deliver")
}

type conn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func (e *env) dial(implicitTLS bool) *conn {
	var c net.Conn
	var err error
	if implicitTLS {
		c, err = tls.Dial("tcp", e.tlsAddr, e.clientTLS)
	} else {
		c, err = net.Dial("tcp", e.addr)
	}
	tcheck(e.t, err, "dial")
	e.t.Cleanup(func() { c.Close() })
	p := &conn{t: e.t, c: c, r: bufio.NewReader(c)}
	if g := p.line(); !strings.HasPrefix(g, "+OK") {
		e.t.Fatalf("greeting %q", g)
	}
	return p
}

func (p *conn) line() string {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

func (p *conn) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.c, s); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// cmd sends a command and checks that the answer starts with want.
func (p *conn) cmd(cmd, want string) string {
	p.t.Helper()
	p.send(cmd + "\r\n")
	l := p.line()
	if !strings.HasPrefix(l, want) {
		p.t.Fatalf("%.40s: %q, want %s", cmd, l, want)
	}
	return l
}

// multi reads a multi-line answer's lines, undoing dot-stuffing.
func (p *conn) multi() []string {
	p.t.Helper()
	var out []string
	for {
		l := p.line()
		if l == "." {
			return out
		}
		out = append(out, strings.TrimPrefix(l, "."))
	}
}

func (p *conn) login() {
	p.t.Helper()
	p.cmd("USER john@example.test", "+OK")
	p.cmd("PASS "+password, "+OK")
}

const msg1 = "From: ann@example.test\r\nSubject: one\r\n\r\nline 1\r\n.dotted line\r\nline 3\r\n"
const msg2 = "From: ann@example.test\r\nSubject: two\r\n\r\nsecond\r\n"

func TestPOP3(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		e.deliver("", msg1)
		e.deliver("", msg2)
		e.deliver("Archive", msg2) // filed elsewhere: POP3 does not see it

		// Plain text: no login before STLS; CAPA says so.
		p := e.dial(false)
		p.send("CAPA\r\n")
		if l := p.line(); l != "+OK Capability list follows" {
			t.Fatalf("capa %q", l)
		}
		caps := strings.Join(p.multi(), ",")
		if !strings.Contains(caps, "STLS") || strings.Contains(caps, "USER") || !strings.Contains(caps, "RESP-CODES") {
			t.Fatalf("plain capa %s", caps)
		}
		p.cmd("USER john@example.test", "-ERR [AUTH]")
		// STLS with a pipelined command: the command is discarded.
		p.send("STLS\r\nUSER smuggled\r\n")
		if l := p.line(); !strings.HasPrefix(l, "+OK") {
			t.Fatalf("stls %q", l)
		}
		tc := tls.Client(p.c, e.clientTLS)
		tcheck(t, tc.Handshake(), "handshake")
		p = &conn{t: t, c: tc, r: bufio.NewReader(tc)}
		p.cmd("PASS "+password, "-ERR") // the smuggled USER did not count
		p.login()
		if l := p.cmd("STAT", "+OK"); l != fmt.Sprintf("+OK 2 %d", len(msg1)+len(msg2)) {
			t.Fatalf("stat %q", l)
		}
		p.send("UIDL\r\n")
		p.line()
		uidl := p.multi()
		if len(uidl) != 2 || !strings.HasSuffix(uidl[0], ".1") || !strings.HasPrefix(uidl[0], "1 ") {
			t.Fatalf("uidl %v", uidl)
		}
		p.cmd("RETR 1", "+OK")
		body := strings.Join(p.multi(), "\r\n") + "\r\n"
		if body != msg1 {
			t.Fatalf("retr %q", body)
		}
		p.cmd("TOP 1 1", "+OK")
		if top := p.multi(); len(top) != 4 || top[3] != "line 1" {
			t.Fatalf("top %q", top)
		}
		// Hostile and wrong input: -ERR, and the session goes on.
		for _, c := range []string{"RETR 0", "RETR 99999", "DELE -1", "TOP 1 -5", "TOP 1", "LIST x", "USER again", "BOGUS", "RETR 1 2",
			"USER " + strings.Repeat("x", 100<<10)} {
			p.cmd(c, "-ERR")
		}
		// DELE, RSET, QUIT keeps the message; pipelined.
		p.send("DELE 1\r\nRSET\r\nSTAT\r\nQUIT\r\n")
		for _, want := range []string{"+OK", "+OK", "+OK 2 ", "+OK"} {
			if l := p.line(); !strings.HasPrefix(l, want) {
				t.Fatalf("pipelined: %q, want %s", l, want)
			}
		}
		// A dropped connection deletes nothing.
		p = e.dial(true)
		p.login()
		p.cmd("DELE 1", "+OK")
		p.c.Close()
		time.Sleep(100 * time.Millisecond)
		p = e.dial(true)
		p.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00john/example.test\x00"+password)) + "\r\n")
		if l := p.line(); !strings.HasPrefix(l, "+OK Logged in: 2 messages") {
			t.Fatalf("after drop: %q", l)
		}
		// A second session gets [IN-USE].
		q := e.dial(true)
		q.cmd("USER john@example.test", "+OK")
		q.cmd("PASS "+password, "-ERR [IN-USE]")
		// DELE takes effect at QUIT.
		p.cmd("DELE 1", "+OK")
		p.cmd("RETR 1", "-ERR")
		p.cmd("QUIT", "+OK")
		q.login()
		if l := q.cmd("STAT", "+OK"); l != fmt.Sprintf("+OK 1 %d", len(msg2)) {
			t.Fatalf("after QUIT: %q", l)
		}
		q.cmd("QUIT", "+OK")
		// The Archive copy stayed.
		arch, err := e.st.Folder(context.Background(), e.john, "Archive")
		tcheck(t, err, "archive")
		if st, _ := e.st.FolderStatus(context.Background(), arch); st.Messages != 1 {
			t.Fatalf("archive has %d", st.Messages)
		}
	})
}

func TestAccounts(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		john, _ := address.ParseAddress("john@example.test")
		p := e.dial(true)
		p.cmd("PASS x", "-ERR") // PASS before USER
		p.cmd("USER john@example.test", "+OK")
		p.cmd("PASS wrong", "-ERR [AUTH] Wrong user name or password")
		off := false
		_, err := e.ts.UpdateMailbox(ctx, sc, john, tenants.MailboxUpdate{Active: &off})
		tcheck(t, err, "disable")
		p.cmd("USER john@example.test", "+OK")
		p.cmd("PASS "+password, "-ERR [AUTH] This account is disabled")
		on := true
		past := time.Now().Add(-time.Hour)
		_, err = e.ts.UpdateMailbox(ctx, sc, john, tenants.MailboxUpdate{Active: &on, ExpiresAt: &past})
		tcheck(t, err, "expire")
		p.cmd("USER john@example.test", "+OK")
		p.cmd("PASS "+password, "-ERR [AUTH] This account has expired")
		_, err = e.ts.UpdateMailbox(ctx, sc, john, tenants.MailboxUpdate{ClearExpiry: true})
		tcheck(t, err, "unexpire")
		for i := 0; i < 10; i++ {
			p.cmd("USER john@example.test", "+OK")
			p.cmd("PASS wrong", "-ERR")
		}
		p.cmd("USER john@example.test", "+OK")
		p.cmd("PASS "+password, "-ERR [SYS/TEMP] Too many failed logins")
	})
}

// TestPoplib drives the server with Python's poplib, an independent
// client.
func TestPoplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but python3 is not installed")
		}
		t.Skip("python3 not installed: the Python client test did not run")
	}
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	e.deliver("", msg1)
	e.deliver("", msg2)
	host, port, _ := net.SplitHostPort(e.addr)
	_, tport, _ := net.SplitHostPort(e.tlsAddr)
	script := `
import poplib, ssl, sys
host, port, tport, cafile, user, pw = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)
p = poplib.POP3(host, int(port))
p.stls(context=ctx)
p.user(user); p.pass_(pw)
count, size = p.stat()
assert count == 2, count
resp, lines, octets = p.retr(1)
assert b".dotted line" in lines, lines
resp, lines, octets = p.top(2, 0)
assert lines[-1] == b"", lines
uidl = p.uidl()[1]
assert len(uidl) == 2 and uidl[0].endswith(b".1"), uidl
p.dele(1)
p.quit()
p = poplib.POP3_SSL(host, int(tport), context=ctx)
p.user(user); p.pass_(pw)
assert p.stat()[0] == 1
p.quit()
print("ok")
`
	f := filepath.Join(t.TempDir(), "pop.py")
	tcheck(t, os.WriteFile(f, []byte(script), 0o600), "script")
	out, err := exec.Command(py, f, host, port, tport, e.certFile, "john@example.test", password).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("poplib: %v\n%s", err, out)
	}
}

// TestRetrExpungedMeanwhile: the maildrop is fixed at login, but a
// message an IMAP session expunges afterwards is no longer sent; RETR
// says so and the session goes on.
func TestRetrExpungedMeanwhile(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, func(c *pop3d.Config) { c.AllowPlaintextAuth = true })
		e.deliver("", msg1)
		e.deliver("", msg2)
		p := e.dial(false)
		p.login()
		p.cmd("STAT", "+OK 2 ")
		ctx := context.Background()
		f, err := e.st.Folder(ctx, e.john, "INBOX")
		tcheck(t, err, "inbox")
		_, err = e.st.StoreFlags(ctx, f.ID, store.RangesOf([]uint32{1}), store.FlagsAdd, store.Flags{store.FlagDeleted})
		tcheck(t, err, "flag deleted")
		_, err = e.st.Expunge(ctx, f, []uint32{1})
		tcheck(t, err, "expunge")
		p.cmd("RETR 1", "-ERR This message was removed")
		p.cmd("RETR 2", "+OK")
		if body := strings.Join(p.multi(), "\r\n"); !strings.Contains(body, "second") {
			t.Fatalf("RETR 2: %q", body)
		}
		p.cmd("QUIT", "+OK")
	})
}
