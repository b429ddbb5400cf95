package imapd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/migrations"
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

// env is a running IMAP server on a fresh database with two mailboxes,
// john@example.test and ann@example.test.
type env struct {
	t         testing.TB
	db        *database.DB
	ts        *tenants.Service
	st        *store.Store
	srv       *imapd.Server
	addr      string // STARTTLS (and, with AllowPlaintextAuth, plain) listener
	tlsAddr   string // implicit TLS
	clientTLS *tls.Config
	certPEM   []byte
	john, ann int64
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func newEnv(t testing.TB, db *database.DB, mod func(*imapd.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, ts: tenantstest.Service(db, nil)}
	sc := tenants.SystemScope("test")
	d, _ := address.ParseDomain("example.test")
	_, err := e.ts.CreateDomain(ctx, sc, d, "")
	tcheck(t, err, "create domain")
	for i, l := range []string{"john", "ann"} {
		m, err := e.ts.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: address.Address{Local: address.Localpart(l), Domain: d},
			Password: password, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "create mailbox")
		if i == 0 {
			e.john = m.ID
		} else {
			e.ann = m.ID
		}
	}
	bs, err := blob.NewFiles(t.TempDir())
	tcheck(t, err, "blob store")
	e.st = store.New(db, bs, store.Options{})
	e.srv = e.startServer(mod)
	return e
}

func (e *env) startServer(mod func(*imapd.Config)) *imapd.Server {
	t := e.t
	certs, _, err := tlscert.Open("", "", t.TempDir(), "localhost")
	tcheck(t, err, "tls")
	leaf, err := certs.Leaf()
	tcheck(t, err, "leaf")
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	e.clientTLS = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	e.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	cfg := imapd.Config{Store: e.st, Tenants: e.ts, Logger: testLogger(t), TLS: certs.Config()}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := imapd.New(cfg)
	tcheck(t, err, "new server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "listen")
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "listen tls")
	e.addr, e.tlsAddr = ln.Addr().String(), tln.Addr().String()
	go srv.Serve(ln)
	go srv.ServeTLS(tln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

// deliver stores a message in a mailbox's folder ("" for INBOX).
func (e *env) deliver(mailbox int64, folder, msg string) uint32 {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.st.Blobs().Create(ctx)
	tcheck(e.t, err, "create blob")
	io.WriteString(p, msg)
	res, err := e.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: mailbox, Folder: folder}}})
	tcheck(e.t, err, "deliver")
	tcheck(e.t, res.Errs[0], "deliver to mailbox")
	return res.UIDs[0]
}

// client logs in over implicit TLS with go-imap's client.
func (e *env) client(login string, opts *imapclient.Options) *imapclient.Client {
	e.t.Helper()
	if opts == nil {
		opts = &imapclient.Options{}
	}
	opts.TLSConfig = e.clientTLS
	c, err := imapclient.DialTLS(e.tlsAddr, opts)
	tcheck(e.t, err, "dial")
	e.t.Cleanup(func() { c.Close() })
	tcheck(e.t, c.Login(login, password).Wait(), "login "+login)
	return c
}

// raw is a line-level IMAP connection for tests of exact answers.
type raw struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func (e *env) raw(implicitTLS bool) *raw {
	e.t.Helper()
	var c net.Conn
	var err error
	if implicitTLS {
		c, err = tls.Dial("tcp", e.tlsAddr, e.clientTLS)
	} else {
		c, err = net.Dial("tcp", e.addr)
	}
	tcheck(e.t, err, "dial")
	e.t.Cleanup(func() { c.Close() })
	r := &raw{t: e.t, conn: c, r: bufio.NewReader(c)}
	if g := r.line(); !strings.HasPrefix(g, "* OK") {
		e.t.Fatalf("greeting %q", g)
	}
	return r
}

func (r *raw) send(s string) {
	r.t.Helper()
	r.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(r.conn, s); err != nil {
		r.t.Fatalf("send %q: %v", s, err)
	}
}

func (r *raw) line() string {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := r.r.ReadString('\n')
	if err != nil {
		r.t.Fatalf("read: %v (after %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// cmd sends a tagged command and returns the untagged lines and the
// tagged one.
func (r *raw) cmd(tag, cmd string) ([]string, string) {
	r.t.Helper()
	r.send(tag + " " + cmd + "\r\n")
	return r.until(tag)
}

func (r *raw) until(tag string) ([]string, string) {
	r.t.Helper()
	var lines []string
	for {
		l := r.line()
		if strings.HasPrefix(l, tag+" ") {
			return lines, l
		}
		lines = append(lines, l)
	}
}

// expect runs a command and checks that its tagged answer starts with
// want.
func (r *raw) expect(tag, cmd, want string) []string {
	r.t.Helper()
	lines, done := r.cmd(tag, cmd)
	if !strings.HasPrefix(done, tag+" "+want) {
		r.t.Fatalf("%s: got %q (untagged %q), want %s", cmd, done, lines, want)
	}
	return lines
}

func (r *raw) login(user string) {
	r.t.Helper()
	r.expect("L", "LOGIN "+user+" "+quote(password), "OK")
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func hasLine(lines []string, substr string) bool {
	for _, l := range lines {
		if strings.Contains(l, substr) {
			return true
		}
	}
	return false
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		fn(t, newEnv(t, db, nil))
	})
}

const msgPlain = "From: Ann <ann@example.test>\r\nTo: John <john@example.test>\r\nSubject: Hello there\r\nMessage-ID: <1@example.test>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0200\r\n\r\nHello John,\r\nsee you.\r\n"

const msgMultipart = "From: Ann <ann@example.test>\r\nTo: john@example.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=C3=A4se und Brot\r\n--zz\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--zz--\r\n"

func migrationsApply(ctx context.Context, db *database.DB) ([]int, error) {
	return migrations.Apply(ctx, db)
}

// certPEM returns the server certificate, for clients that read a file.
func certPEM(t testing.TB, e *env) []byte {
	t.Helper()
	return e.certPEM
}
