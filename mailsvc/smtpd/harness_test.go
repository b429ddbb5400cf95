package smtpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/greylist"
	"github.com/postdesk/postdesk/mailsvc/logctx"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/rspamd"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const pw = "Xk9#mq2!pLw7z"

var sys = tenants.SystemScope("test")

// env is a real SMTP server (MX, submission, submissions) on loopback over
// a real tenants service, store and queue, with fixtures:
//
//	example.test: john (alias sales), ann (responder), fwd (forwards to john,
//	  keeps nothing), rfwd (forwards to far@remote.test, keeps nothing),
//	  full (1 KiB quota, full), nosend (may not send), off (disabled)
//	c.test: catchrest mailbox
//	alias.test: alias domain of example.test
//	the system postmaster: john
type env struct {
	t       testing.TB
	ctx     context.Context
	db      *database.DB
	ten     *tenants.Service
	st      *store.Store
	q       *queue.Queue
	d       *delivery.Deliverer
	disk    *diskBlobs
	tlsCfg  *tls.Config
	mx      string
	sub     string
	subs    string
	ids     map[string]int64
	logBuf  *strings.Builder
	cfgUsed smtpd.Config
}

// diskBlobs reports a free space the test can change, to simulate a full
// disk.
type diskBlobs struct {
	blob.Store
	free atomic.Int64
}

func (d *diskBlobs) Free() (int64, error) { return d.free.Load(), nil }

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func addr(s string) address.Address {
	a, err := address.ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

type tLog struct{ t testing.TB }

func (w tLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newEnv(t testing.TB, db *database.DB, mod func(*smtpd.Config)) *env {
	t.Helper()
	return newEnvWith(t, db, envOptions{config: mod})
}

// envOptions change what newEnvWith builds: the SMTP config, the tenants
// service (e.g. to see the login throttle's delays), the server's clock.
type envOptions struct {
	config  func(*smtpd.Config)
	tenants func(*database.DB) *tenants.Service
	now     func() time.Time
	logs    io.Writer // a copy of the log
	// limits are the send limits, of submission and delivery alike.
	limits delivery.RateLimits
	// sessions is the session watch, made on the env's tenants service
	// when set (a test runs it or calls Check).
	sessions func(*tenants.Service) *tenants.SessionWatch
	// publicURL is delivery's --public-url (lists' links).
	publicURL string
	// dns, when set, turns on the mail checks (SPF, DKIM, DMARC) and DKIM
	// signing, every lookup asking this server; the tenants service then
	// seals DKIM keys.
	dns *mailtest.DNS
	// greylist, when set, turns greylisting on with these options.
	greylist *greylist.Options
	// spam, when set, scans the MX's mail with this rspamd client.
	spam *rspamd.Client
}

func newEnvWith(t testing.TB, db *database.DB, o envOptions) *env {
	t.Helper()
	mod := o.config
	ctx := context.Background()
	level := slog.LevelDebug
	if _, ok := t.(*testing.B); ok {
		level = slog.LevelWarn
	}
	var logw io.Writer = tLog{t}
	if o.logs != nil {
		logw = io.MultiWriter(logw, o.logs)
	}
	log := slog.New(logctx.NewHandler(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level})))
	e := &env{t: t, ctx: ctx, db: db, ten: tenantstest.Service(db, nil), ids: map[string]int64{}}
	if o.tenants != nil {
		e.ten = o.tenants(db)
	}
	var signer *msgauth.Signer
	var checker *msgauth.Checker
	if o.dns != nil {
		e.ten = tenantstest.SealedService(t, db, nil)
		signer = msgauth.NewSigner(e.ten)
		checker = msgauth.NewChecker(&dnsres.Resolver{Server: o.dns.Addr, Timeout: 2 * time.Second})
	}
	files, err := blob.NewFiles(t.TempDir())
	tcheck(t, err, "blobs")
	e.disk = &diskBlobs{Store: files}
	e.disk.free.Store(1 << 40)
	e.st = store.New(db, e.disk, store.Options{Logger: log, BlobRefs: []string{queue.BlobTable}})
	srs, err := delivery.LoadSRS(ctx, db, nil)
	tcheck(t, err, "srs")
	outbox := queue.NewOutbox(nil)
	e.d = delivery.New(delivery.Options{Tenants: e.ten, Store: e.st, Queue: outbox, SRS: srs, Hostname: "mx.test", Logger: log,
		Limits: o.limits, PublicURL: o.publicURL, DKIM: signer})
	e.q, err = queue.New(db, e.st, e.ten, e.d, queue.Options{Hostname: "mx.test", Logger: log, Outbox: outbox})
	tcheck(t, err, "queue")
	e.fixtures()

	certs, _, err := tlscert.Open("", "", t.TempDir(), "mx.test")
	tcheck(t, err, "tls")
	e.tlsCfg = certs.Config()
	cfg := smtpd.Config{Hostname: "mx.test", ReadTimeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	e.cfgUsed = cfg
	var watch *tenants.SessionWatch
	if o.sessions != nil {
		watch = o.sessions(e.ten)
	}
	var gl *greylist.Greylist
	if o.greylist != nil {
		gl = greylist.New(db, *o.greylist)
	}
	s := smtpd.New(smtpd.Options{Config: cfg, Tenants: e.ten, Sessions: watch, Deliverer: e.d, Checker: checker, Greylist: gl, Spam: o.spam, Blobs: e.disk, DB: db, TLS: e.tlsCfg, Logger: log, Now: o.now})
	for _, ep := range []struct {
		dst *string
		e   *smtpd.Endpoint
	}{{&e.mx, s.MX()}, {&e.sub, s.Submission()}, {&e.subs, s.Submissions()}} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		tcheck(t, err, "listen")
		*ep.dst = l.Addr().String()
		done := make(chan error, 1)
		go func() { done <- ep.e.Serve(l) }()
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			ep.e.Shutdown(sctx)
			<-done
		})
	}
	return e
}

func (e *env) fixtures() {
	t, ctx := e.t, e.ctx
	for _, d := range []string{"example.test", "c.test", "alias.test"} {
		_, err := e.ten.CreateDomain(ctx, sys, address.Domain(d), "")
		tcheck(t, err, "domain "+d)
	}
	aliasOf := address.Domain("example.test")
	_, err := e.ten.UpdateDomain(ctx, sys, "alias.test", tenants.DomainUpdate{AliasOf: &aliasOf})
	tcheck(t, err, "alias domain")
	for _, m := range []string{"john", "ann", "fwd", "rfwd", "full", "nosend", "off"} {
		e.mailbox(m+"@example.test", nil)
	}
	e.mailbox("catchrest@c.test", nil)
	tcheck(t, e.ten.AddAlias(ctx, sys, addr("sales@example.test"), addr("john@example.test")), "alias")
	tcheck(t, e.ten.SetForwards(ctx, sys, addr("fwd@example.test"), []address.Address{addr("john@example.test")}, false), "forward")
	tcheck(t, e.ten.SetForwards(ctx, sys, addr("rfwd@example.test"), []address.Address{addr("far@remote.test")}, false), "remote forward")
	tcheck(t, e.ten.SetResponder(ctx, sys, addr("ann@example.test"), tenants.ResponderInput{Enabled: true, Subject: "Away", Body: "Back Monday"}), "responder")
	q := int64(1024)
	f, no := false, false
	_, err = e.ten.UpdateMailbox(ctx, sys, addr("full@example.test"), tenants.MailboxUpdate{QuotaBytes: &q})
	tcheck(t, err, "quota")
	_, err = e.ten.UpdateMailbox(ctx, sys, addr("nosend@example.test"), tenants.MailboxUpdate{MaySend: &no})
	tcheck(t, err, "may send")
	_, err = e.ten.UpdateMailbox(ctx, sys, addr("off@example.test"), tenants.MailboxUpdate{Active: &f})
	tcheck(t, err, "disable")
	tcheck(t, e.ten.SetSystemPostmaster(ctx, sys, addr("john@example.test")), "postmaster")
	// Fill "full" past its quota.
	tcheck(t, e.st.EnsureFolders(ctx, e.ids["full@example.test"]), "folders")
	_, _, err = e.st.Append(ctx, e.ids["full@example.test"], "INBOX", 0, strings.NewReader("Subject: big\r\n\r\n"+strings.Repeat("x", 2000)+"\r\n"), 1<<20, nil, time.Now())
	tcheck(t, err, "fill")
}

func (e *env) mailbox(a string, st *tenants.MailboxSettings) *tenants.Mailbox {
	s := tenants.DefaultMailboxSettings()
	if st != nil {
		s = *st
	}
	m, err := e.ten.CreateMailbox(e.ctx, sys, tenants.NewMailbox{Address: addr(a), Password: pw, Settings: s})
	tcheck(e.t, err, "mailbox "+a)
	e.ids[a] = m.ID
	return m
}

// stored returns the messages in a mailbox's INBOX as a client reads
// them: prefix and body.
func (e *env) stored(a string) []string {
	e.t.Helper()
	return mailtest.Inbox(e.t, e.ctx, e.st, e.ids[a])
}

// queued returns the queue's messages: sender, recipients, prefix, kind.
type queuedMsg struct {
	From, Prefix, Kind string
	Rcpts              []string
}

func (e *env) queued() []queuedMsg {
	e.t.Helper()
	var rows []struct {
		ID       int64
		MailFrom string
		Prefix   string
		Kind     string
	}
	tcheck(e.t, e.db.Read(e.ctx).Table("queue_messages").Order("id").Find(&rows).Error, "queue rows")
	var out []queuedMsg
	for _, r := range rows {
		var rcpts []string
		tcheck(e.t, e.db.Read(e.ctx).Table("queue_recipients").Where("message_id = ?", r.ID).Order("rcpt").Pluck("rcpt", &rcpts).Error, "queue rcpts")
		out = append(out, queuedMsg{From: r.MailFrom, Prefix: r.Prefix, Kind: r.Kind, Rcpts: rcpts})
	}
	return out
}

// raw is a line-level SMTP client, for checking exact replies.
type raw struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t testing.TB, a string) *raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", a, 5*time.Second)
	tcheck(t, err, "dial")
	t.Cleanup(func() { c.Close() })
	rc := &raw{t: t, conn: c, r: bufio.NewReader(c)}
	if code, text := rc.read(); code != 220 {
		t.Fatalf("greeting %d %s", code, text)
	}
	return rc
}

// read reads one (possibly multi-line) reply; code 0 on EOF.
func (c *raw) read() (int, string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	var lines []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return 0, strings.Join(append(lines, err.Error()), "\n")
		}
		l = strings.TrimRight(l, "\r\n")
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			code, _ := strconv.Atoi(l[:min(3, len(l))])
			return code, strings.Join(lines, "\n")
		}
	}
}

func (c *raw) send(s string) {
	c.t.Helper()
	_, err := c.conn.Write([]byte(s))
	tcheck(c.t, err, "write")
}

// cmd sends a command line and returns the reply.
func (c *raw) cmd(line string) (int, string) {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.read()
}

func (c *raw) expect(line string, code int, enhanced string) string {
	c.t.Helper()
	got, text := c.cmd(line)
	if got != code || (enhanced != "" && !strings.Contains(text, " "+enhanced+" ")) {
		c.t.Fatalf("%q: got %q, want %d %s", line, text, code, enhanced)
	}
	return text
}

func (c *raw) starttls() {
	c.t.Helper()
	c.expect("STARTTLS", 220, "")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	tcheck(c.t, tc.Handshake(), "handshake")
	c.conn, c.r = tc, bufio.NewReader(tc)
}

func msg(from, to, subject, extra string) string {
	return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\nMessage-ID: <" +
		strconv.FormatInt(time.Now().UnixNano(), 36) + "@client.test>\r\n" + extra + "\r\nHello " + subject + "\r\n"
}

// send delivers one message through go-smtp's client; the error is the
// server's refusal, if any.
func send(a, from string, to []string, body string) error {
	c, err := smtp.Dial(a)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	return sendOn(c, from, to, body)
}

func sendOn(c *smtp.Client, from string, to []string, body string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, body); err != nil {
		return err
	}
	return w.Close()
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func forEach(t *testing.T, fn func(t *testing.T, e *env), mod func(*smtpd.Config)) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		fn(t, newEnv(t, db, mod))
	})
}

// forEachWith is forEach with envOptions.
func forEachWith(t *testing.T, fn func(t *testing.T, e *env), o envOptions) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		fn(t, newEnvWith(t, db, o))
	})
}
