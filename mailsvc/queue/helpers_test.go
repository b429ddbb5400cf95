package queue_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls cond until it holds or 15 seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// logBuffer collects the queue's log lines for assertions and repeats
// them to t.Log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   testing.TB
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is a queue on one database with a hosted domain (local.test:
// john, pm the domain's postmaster, archive), a DNS server and an MX for
// remote.test.
type env struct {
	t       *testing.T
	ctx     context.Context
	db      *database.DB
	ts      *tenants.Service
	st      *store.Store
	clock   *clock
	dns     *dnsServer
	mx      *mxServer
	log     *logBuffer
	local   *storeLocal
	keyFile string
	ca      *testCA
	mbox    map[string]int64
	domain  *tenants.Domain
	sys     tenants.Scope
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), db: db, clock: newClock(), log: &logBuffer{t: t},
		keyFile: t.TempDir() + "/queue.key", mbox: map[string]int64{}, sys: tenants.SystemScope("test")}
	e.ts = tenantstest.Service(db, e.clock.Now)
	bs, err := blob.NewFiles(t.TempDir())
	tcheck(t, err, "blobs")
	e.st = store.New(db, bs, store.Options{BlobRefs: []string{queue.BlobTable}})
	e.local = &storeLocal{ts: e.ts, st: e.st}
	d, _ := address.ParseDomain("local.test")
	e.domain, err = e.ts.CreateDomain(e.ctx, e.sys, d, "")
	tcheck(t, err, "domain")
	for _, l := range []string{"john", "pm", "archive", "reports"} {
		m, err := e.ts.CreateMailbox(e.ctx, e.sys, tenants.NewMailbox{Address: address.Address{Local: address.Localpart(l), Domain: d},
			Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox")
		e.mbox[l] = m.ID
	}
	pm := address.Address{Local: "pm", Domain: d}
	e.domain, err = e.ts.UpdateDomain(e.ctx, e.sys, d, tenants.DomainUpdate{Postmaster: &pm})
	tcheck(t, err, "set postmaster")
	e.ca = newCA(t)
	e.mx = newMX(t, "127.0.0.1", 0, nil)
	e.dns = newDNS(t)
	e.dns.add("remote.test. 300 IN MX 10 mx.remote.test.")
	e.dns.add("other.test. 300 IN MX 10 mx.remote.test.")
	e.dns.add("mx.remote.test. 300 IN A 127.0.0.1")
	return e
}

// queue makes a queue instance on e's database.
func (e *env) queue(db *database.DB) *queue.Queue {
	e.t.Helper()
	return e.queueWith(db, nil)
}

// queueWith makes a queue instance whose options change first changes.
func (e *env) queueWith(db *database.DB, change func(o *queue.Options)) *queue.Queue {
	e.t.Helper()
	return e.queueLocal(db, e.local, change)
}

// queueLocal is queueWith with local as its local delivery.
func (e *env) queueLocal(db *database.DB, local queue.LocalDeliverer, change func(o *queue.Options)) *queue.Queue {
	e.t.Helper()
	opts := queue.Options{
		Hostname: "mail.local.test", Logger: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Now: e.clock.Now, KeyFile: e.keyFile, DNSServer: e.dns.addr, RemotePort: e.mx.port, RootCAs: e.ca.pool,
		PollInterval: 30 * time.Millisecond, LeaseDuration: 3 * time.Second, DialTimeout: 2 * time.Second, CommandTimeout: 5 * time.Second,
	}
	if change != nil {
		change(&opts)
	}
	q, err := queue.New(db, e.st, e.ts, local, opts)
	tcheck(e.t, err, "new queue")
	return q
}

// run starts q and returns a function that stops it and waits.
func (e *env) run(q *queue.Queue) (stop func()) {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// settings changes the Delivery Options from the defaults.
func (e *env) settings(q *queue.Queue, change func(s *queueadmin.Settings)) {
	e.t.Helper()
	s, err := q.DeliveryOptions(e.ctx, e.sys)
	tcheck(e.t, err, "read options")
	change(s)
	tcheck(e.t, q.SetDeliveryOptions(e.ctx, e.sys, *s), "set options")
}

func message(subject string) string {
	return "From: John <john@local.test>\r\nTo: bob@remote.test\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@local.test>\r\n\r\nHello there.\r\n.leading dot\r\n"
}

// enqueue stores body as a blob and queues it as store.Deliver's Extra
// does for a delivery, then kicks the queue.
func (e *env) enqueue(q *queue.Queue, env queue.Envelope, body string) {
	e.t.Helper()
	p, err := e.st.Blobs().Create(e.ctx)
	tcheck(e.t, err, "create blob")
	io.WriteString(p, body)
	_, err = e.st.Deliver(e.ctx, &store.Delivery{Blob: p, KeepBlob: true, Extra: func(tx database.Tx, key string) error {
		env.BlobKey = key
		return q.EnqueueTx(tx, env)
	}})
	tcheck(e.t, err, "enqueue")
	q.Kick()
}

func (e *env) submission(rcpts ...string) queue.Envelope {
	return queue.Envelope{From: "john@local.test", Rcpts: rcpts, MailboxID: e.mbox["john"], DomainID: e.domain.ID, Kind: queue.KindSubmission}
}

// inbox returns the messages of a local mailbox's INBOX.
func (e *env) inbox(name string) []string {
	e.t.Helper()
	return mailtest.Inbox(e.t, e.ctx, e.st, e.mbox[name])
}

// queued lists the queue as an administrator sees it.
func (e *env) queued(q *queue.Queue) []queueadmin.Message {
	e.t.Helper()
	ms, _, err := q.QueueMessages(e.ctx, e.sys, queueadmin.QueueQuery{Limit: 500})
	tcheck(e.t, err, "list queue")
	return ms
}

// storeLocal is the local delivery of the tests: it resolves each
// recipient through tenants and stores the message in its INBOX.
type storeLocal struct {
	ts *tenants.Service
	st *store.Store
}

func (l *storeLocal) DeliverLocal(ctx context.Context, from string, rcpts []string, body io.Reader) error {
	var rs []store.Rcpt
	for _, r := range rcpts {
		a, err := address.ParseAddress(r)
		if err != nil {
			return fmt.Errorf("%s: %w", r, tenants.ErrNoSuchUser)
		}
		plan, err := l.ts.ResolveRecipient(ctx, a)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", r, err)
		}
		rs = append(rs, store.Rcpt{MailboxID: plan.Mailbox.MailboxID, Quota: plan.Mailbox.QuotaBytes, System: plan.System,
			Prefix: "Return-Path: <" + from + ">\r\nDelivered-To: " + r + "\r\n"})
	}
	p, err := l.st.Blobs().Create(ctx)
	if err != nil {
		return err
	}
	if _, err := io.Copy(p, body); err != nil {
		p.Abort()
		return err
	}
	_, err = l.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: rs})
	return err
}

// dnsServer is a real DNS server on loopback answering from a small zone.
type dnsServer struct {
	addr  string
	mu    sync.Mutex
	rrs   map[string][]dns.RR
	rcode map[string]int
	// asked counts the queries for each name.
	asked map[string]int
}

func newDNS(t *testing.T) *dnsServer {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	tcheck(t, err, "dns listen")
	d := &dnsServer{addr: pc.LocalAddr().String(), rrs: map[string][]dns.RR{}, rcode: map[string]int{}, asked: map[string]int{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return d
}

// add adds a record in zone-file syntax.
func (d *dnsServer) add(s string) {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	name := strings.ToLower(rr.Header().Name)
	d.rrs[name] = append(d.rrs[name], rr)
}

// queries returns how many queries names matching suffix got.
func (d *dnsServer) queries(suffix string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for name, c := range d.asked {
		if strings.HasSuffix(name, suffix) {
			n += c
		}
	}
	return n
}

// fail makes every query for name answer rcode.
func (d *dnsServer) fail(name string, rcode int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rcode[dns.Fqdn(name)] = rcode
}

func (d *dnsServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	d.mu.Lock()
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	d.asked[name]++
	if rc, ok := d.rcode[name]; ok {
		m.Rcode = rc
	} else if rrs, ok := d.rrs[name]; ok {
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	} else {
		m.Rcode = dns.RcodeNameError
	}
	d.mu.Unlock()
	w.WriteMsg(m)
}

// received is a message a test server accepted.
type received struct {
	From     string
	Rcpts    []string
	Data     string
	TLS      bool
	AuthUser string
	Helo     string
}

// mxServer is a real SMTP server (go-smtp) on loopback, standing in for a
// remote MX or relay. It offers STARTTLS; with users set it requires AUTH.
type mxServer struct {
	t    *testing.T
	addr string
	port int
	srv  *smtp.Server

	mu        sync.Mutex
	msgs      []received
	conns     int
	active    int
	maxActive int
	// rcpt decides RCPT replies (nil: accept); n counts RCPTs for that
	// address so far, from 1.
	rcpt      func(addr string, n int) error
	rcptCount map[string]int
	// dataDelay is waited in DATA.
	dataDelay time.Duration
	users     map[string]string
}

func newMX(t *testing.T, ip string, port int, cert *tls.Certificate) *mxServer {
	return serveMX(t, ip, port, cert, false)
}

// newImplicitTLSMX is a relay that speaks TLS from the start (port 465
// style) and offers no STARTTLS.
func newImplicitTLSMX(t *testing.T, cert tls.Certificate) *mxServer {
	return serveMX(t, "127.0.0.1", 0, &cert, true)
}

// newPlainMX is an MX that offers no STARTTLS.
func newPlainMX(t *testing.T) *mxServer {
	m := serveMX(t, "127.0.0.1", 0, nil, false, func(s *smtp.Server) { s.TLSConfig = nil })
	return m
}

func serveMX(t *testing.T, ip string, port int, cert *tls.Certificate, implicitTLS bool, change ...func(*smtp.Server)) *mxServer {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	tcheck(t, err, "mx listen")
	m := &mxServer{t: t, addr: l.Addr().String(), port: l.Addr().(*net.TCPAddr).Port, rcptCount: map[string]int{}}
	if cert == nil {
		c := selfSigned(t)
		cert = &c
	}
	m.srv = smtp.NewServer(m)
	m.srv.Domain = "mx.remote.test"
	m.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	m.srv.ReadTimeout, m.srv.WriteTimeout = 10*time.Second, 10*time.Second
	m.srv.MaxMessageBytes = 10 << 20
	m.srv.ErrorLog = log.New(io.Discard, "", 0)
	var sl net.Listener = &countingListener{Listener: l, m: m}
	if implicitTLS {
		sl = tls.NewListener(sl, m.srv.TLSConfig)
		m.srv.TLSConfig = nil
	}
	for _, f := range change {
		f(m.srv)
	}
	go m.srv.Serve(sl)
	t.Cleanup(func() { m.srv.Close() })
	return m
}

func (m *mxServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mxSession{m: m, c: c}, nil
}

// set changes the server's behaviour under its lock.
func (m *mxServer) set(f func(m *mxServer)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *mxServer) userPass(name string) (string, bool, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.users[name]
	return p, ok, m.users != nil
}

func (m *mxServer) received() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.msgs...)
}

func (m *mxServer) count() int { return len(m.received()) }

type countingListener struct {
	net.Listener
	m *mxServer
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.m.mu.Lock()
	l.m.conns++
	l.m.active++
	l.m.maxActive = max(l.m.maxActive, l.m.active)
	l.m.mu.Unlock()
	return &countedConn{Conn: c, m: l.m}, nil
}

type countedConn struct {
	net.Conn
	m    *mxServer
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.m.mu.Lock()
		c.m.active--
		c.m.mu.Unlock()
	})
	return c.Conn.Close()
}

type mxSession struct {
	m     *mxServer
	c     *smtp.Conn
	from  string
	rcpts []string
	user  string
}

func (s *mxSession) AuthMechanisms() []string {
	if _, _, on := s.m.userPass(""); !on {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *mxSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if p, ok, _ := s.m.userPass(username); !ok || p != password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *mxSession) Mail(from string, opts *smtp.MailOptions) error {
	if _, _, on := s.m.userPass(""); on && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mxSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.m.mu.Lock()
	s.m.rcptCount[to]++
	n := s.m.rcptCount[to]
	f := s.m.rcpt
	s.m.mu.Unlock()
	if f != nil {
		if err := f(to, n); err != nil {
			return err
		}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *mxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	delay := s.m.dataDelay
	s.m.mu.Unlock()
	time.Sleep(delay)
	_, tlsOn := s.c.TLSConnectionState()
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, received{From: s.from, Rcpts: s.rcpts, Data: string(b), TLS: tlsOn, AuthUser: s.user, Helo: s.c.Hostname()})
	s.m.mu.Unlock()
	return nil
}

func (s *mxSession) Reset()        { s.from, s.rcpts = "", nil }
func (s *mxSession) Logout() error { return nil }

// testCA signs certificates for the relays that get credentials.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tcheck(t, err, "ca key")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Postdesk test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	tcheck(t, err, "ca cert")
	cert, err := x509.ParseCertificate(der)
	tcheck(t, err, "parse ca")
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{key: key, cert: cert, pool: pool}
}

// leaf issues a certificate for 127.0.0.1.
func (ca *testCA) leaf(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tcheck(t, err, "leaf key")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"relay.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	tcheck(t, err, "leaf cert")
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// selfSigned is an MX's certificate nobody can verify, as is common.
func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tcheck(t, err, "key")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "mx.remote.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{"mx.remote.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	tcheck(t, err, "cert")
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
