package imapserver_test

// postdesk: tests of the patches listed in PATCHES.md, over loopback with a
// raw client, so that the exact responses are checked.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

const (
	testUser     = "user"
	testPassword = "password"
)

// extSession adds ID and QUOTA to imapmemserver's session.
type extSession struct {
	imapserver.Session
	clientID *imap.IDData
	setQuota map[imap.QuotaResourceType]int64
}

var (
	_ imapserver.SessionID    = (*extSession)(nil)
	_ imapserver.SessionQuota = (*extSession)(nil)
)

func (s *extSession) ID(client *imap.IDData) (*imap.IDData, error) {
	s.clientID = client
	return &imap.IDData{Name: "test", Version: "1"}, nil
}

func (s *extSession) QuotaResources() []imap.QuotaResourceType {
	return []imap.QuotaResourceType{imap.QuotaResourceStorage}
}

func (s *extSession) GetQuota(root string) (*imapserver.QuotaData, error) {
	if root != "" {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "No such quota root"}
	}
	return &imapserver.QuotaData{Root: "", Resources: map[imap.QuotaResourceType]imapserver.QuotaResourceData{
		imap.QuotaResourceStorage: {Usage: 10, Limit: 512},
		imap.QuotaResourceMessage: {Usage: 1, Limit: 100},
	}}, nil
}

func (s *extSession) GetQuotaRoot(mailbox string) ([]imapserver.QuotaData, error) {
	if mailbox == "Unlimited" {
		return nil, nil
	}
	q, err := s.GetQuota("")
	if err != nil {
		return nil, err
	}
	return []imapserver.QuotaData{*q}, nil
}

func (s *extSession) SetQuota(root string, limits map[imap.QuotaResourceType]int64) error {
	s.setQuota = limits
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNoPerm, Text: "Not here"}
}

type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// startServer runs a server over imapmemserver on loopback; wrap, if not
// nil, wraps each session.
func startServer(t *testing.T, opts imapserver.Options, wrap func(imapserver.Session) imapserver.Session) string {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	opts.NewSession = func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
		s := mem.NewSession()
		if wrap != nil {
			s = wrap(s)
		}
		return s, nil, nil
	}
	if opts.Caps == nil {
		opts.Caps = imap.CapSet{imap.CapIMAP4rev1: {}}
	}
	opts.InsecureAuth = true
	server := imapserver.New(&opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(ln)
	t.Cleanup(func() { server.Close() })
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	if l := c.line(); !strings.HasPrefix(l, "* OK") {
		t.Fatalf("greeting: %q", l)
	}
	return c
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *rawClient) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (after %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// cmd sends a command and returns its untagged responses and the tagged one.
func (c *rawClient) cmd(tag, cmd string) (untagged []string, done string) {
	c.t.Helper()
	c.send(tag + " " + cmd + "\r\n")
	return c.until(tag)
}

func (c *rawClient) until(tag string) (untagged []string, done string) {
	c.t.Helper()
	for {
		l := c.line()
		if strings.HasPrefix(l, tag+" ") {
			return untagged, l
		}
		untagged = append(untagged, l)
	}
}

func (c *rawClient) expect(tag, cmd, want string) []string {
	c.t.Helper()
	untagged, done := c.cmd(tag, cmd)
	if !strings.HasPrefix(done, tag+" "+want) {
		c.t.Fatalf("%s: got %q, want %s (untagged %q)", cmd, done, want, untagged)
	}
	return untagged
}

func (c *rawClient) login() {
	c.t.Helper()
	c.expect("L", "LOGIN "+testUser+" "+testPassword, "OK")
}

func capsOf(t *testing.T, c *rawClient) string {
	t.Helper()
	for _, l := range c.expect("C", "CAPABILITY", "OK") {
		if strings.HasPrefix(l, "* CAPABILITY ") {
			return l + " "
		}
	}
	t.Fatal("no CAPABILITY response")
	return ""
}

func TestID(t *testing.T) {
	var sess *extSession
	addr := startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		sess = &extSession{Session: s}
		return sess
	})
	c := dial(t, addr)
	if caps := capsOf(t, c); !strings.Contains(caps, " ID ") {
		t.Errorf("ID not announced before login: %q", caps)
	}
	// Before login, in any case, with a literal and NIL values.
	untagged := c.expect("a", `id ("NAME" "cli" "version" NIL "os" {5+}`+"\r\nLinux)", "OK")
	if len(untagged) != 1 || untagged[0] != `* ID ("name" "test" "version" "1")` {
		t.Errorf("ID response %q", untagged)
	}
	if sess.clientID == nil || sess.clientID.Name != "cli" || sess.clientID.OS != "Linux" {
		t.Errorf("client ID %+v", sess.clientID)
	}
	c.expect("b", "ID NIL", "OK")
	if sess.clientID != nil {
		t.Errorf("ID NIL gave %+v", sess.clientID)
	}
	for _, bad := range []string{"ID", "ID foo", `ID ("name")`, `ID ("name" "a" "b")`, "ID (name x)",
		`ID ("` + strings.Repeat("k", 31) + `" "v")`, `ID ("k" "` + strings.Repeat("v", 1025) + `")`,
		"ID (" + strings.Repeat(`"k" "v" `, 31) + `"k" "v")`} {
		c.expect("c", bad, "BAD")
	}
	// The connection is still usable.
	c.login()
	c.expect("d", "ID NIL", "OK")
}

func TestIDUnsupported(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	if caps := capsOf(t, c); strings.Contains(caps, " ID ") {
		t.Errorf("ID announced: %q", caps)
	}
	c.login()
	c.expect("a", "ID NIL", "BAD")
}

func TestQuota(t *testing.T) {
	var sess *extSession
	addr := startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		sess = &extSession{Session: s}
		return sess
	})
	c := dial(t, addr)
	if caps := capsOf(t, c); strings.Contains(caps, "QUOTA") {
		t.Errorf("QUOTA announced before login: %q", caps)
	}
	c.expect("a", `GETQUOTA ""`, "BAD")
	c.login()
	caps := capsOf(t, c)
	if !strings.Contains(caps, " QUOTA ") || !strings.Contains(caps, " QUOTA=RES-STORAGE ") || strings.Contains(caps, "QUOTASET") {
		t.Errorf("capabilities after login: %q", caps)
	}

	untagged := c.expect("b", `GETQUOTA ""`, "OK")
	if len(untagged) != 1 || untagged[0] != `* QUOTA "" (MESSAGE 1 100 STORAGE 10 512)` {
		t.Errorf("GETQUOTA: %q", untagged)
	}
	c.expect("c", "GETQUOTA other", "NO [NONEXISTENT]")

	untagged = c.expect("d", "GETQUOTAROOT inbox", "OK")
	if len(untagged) != 2 || untagged[0] != `* QUOTAROOT INBOX ""` || untagged[1] != `* QUOTA "" (MESSAGE 1 100 STORAGE 10 512)` {
		t.Errorf("GETQUOTAROOT: %q", untagged)
	}
	untagged = c.expect("e", "GETQUOTAROOT Unlimited", "OK")
	if len(untagged) != 1 || untagged[0] != `* QUOTAROOT "Unlimited"` {
		t.Errorf("GETQUOTAROOT without roots: %q", untagged)
	}
	c.expect("f", `GETQUOTAROOT "&Jjo"`, "NO")

	c.expect("g", `SETQUOTA "" (STORAGE 100)`, "NO [NOPERM]")
	if sess.setQuota[imap.QuotaResourceStorage] != 100 {
		t.Errorf("SETQUOTA limits %v", sess.setQuota)
	}
	c.expect("h", `SETQUOTA "" (STORAGE x)`, "BAD")
	c.expect("i", "NOOP", "OK")
}

func TestSyntaxErrorsAreBAD(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	c.login()
	c.expect("s", "SELECT INBOX", "OK")
	for _, cmd := range []string{
		"FETCH 0 FLAGS",
		"FETCH 1:4294967296 FLAGS",
		"UID FETCH 0:5 FLAGS",
		"STORE 0 +FLAGS (\\Seen)",
		"COPY 1:x INBOX",
		"FETCH 1 (FLAGS",
		"SEARCH SENTBEFORE 31-Foo-2020",
		"SEARCH SINCE 1-Jan-20200",
		`STATUS "&Jjo" (MESSAGES`,
		`APPEND INBOX "99-Foo-2020 00:00:00 +0000" {1}`,
		"SEARCH " + strings.Repeat("(", 1001) + "ALL" + strings.Repeat(")", 1001),
	} {
		c.expect("b", cmd, "BAD")
	}
	c.expect("n", "NOOP", "OK")
}

// TestBadMailboxNamesAreNO: a name that parses (an atom or a string) but is
// not valid modified UTF-7 is no mailbox's name: NO, and LIST matches
// nothing, as Dovecot answers; the rest of the line is still parsed.
func TestBadMailboxNamesAreNO(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	c.login()
	const atoms = "!#$$&'+,-.0123456789:;<=>?@^_`|[}" // imaptest's atoms script
	for _, cmd := range []string{
		"SELECT " + atoms,
		"EXAMINE " + atoms,
		`CREATE "&Jjo"`,
		`CREATE "&AGE-"`,
		`STATUS "&Jjo" (MESSAGES)`,
		"DELETE " + atoms,
		"RENAME INBOX " + atoms,
		"SUBSCRIBE " + atoms,
		"UNSUBSCRIBE " + atoms,
	} {
		c.expect("n", cmd, "NO")
	}
	for _, cmd := range []string{
		`LIST "" ` + atoms,
		`LIST ` + atoms + ` *`,
		`LSUB "" ` + atoms,
	} {
		if untagged := c.expect("l", cmd, "OK"); len(untagged) != 0 {
			t.Errorf("%s: entries %q", cmd, untagged)
		}
	}
	// A syntax error after the name is still BAD.
	c.expect("b", "SELECT "+atoms+" x", "BAD")
	c.expect("b", `STATUS "&Jjo" (MESSAGES`, "BAD")
	// APPEND is refused before its data: the synchronizing literal is not
	// asked for, the non-synchronizing one is dropped, not read as commands.
	c.expect("a", "APPEND "+atoms+" {5}", "NO")
	c.send("a APPEND " + atoms + " {9+}\r\nn NOOP\r\n\r\n")
	if untagged, done := c.until("a"); !strings.HasPrefix(done, "a NO") || len(untagged) != 0 {
		t.Fatalf("APPEND with LITERAL+: %q, untagged %q", done, untagged)
	}
	untagged := c.expect("s", "SELECT INBOX", "OK")
	if containsLine(untagged, "n OK") {
		t.Errorf("literal data read as a command: %q", untagged)
	}
	// A failed SELECT leaves no mailbox selected (RFC 9051 6.3.2).
	if untagged := c.expect("n", "SELECT "+atoms, "NO"); !containsLine(untagged, "* OK [CLOSED] Previous mailbox is now closed") {
		t.Errorf("SELECT of a bad name while selected: %q, want [CLOSED]", untagged)
	}
	c.expect("f", "FETCH 1:* FLAGS", "BAD")
}

// TestRawUTF8MailboxNames: a name with raw UTF-8 is a mailbox name only
// for a session that enabled UTF8=ACCEPT (RFC 6855 3) or IMAP4rev2 (RFC
// 9051 5.1); before, it is not modified UTF-7 (RFC 3501 5.1.3) and is a NO
// on every command, as Dovecot answers. Upstream took it and listed the
// mailbox in modified UTF-7, a name the client never created. Each
// session's LIST gives the names it may send back.
func TestRawUTF8MailboxNames(t *testing.T) {
	addr := startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		return &extSession{Session: s}
	})
	c := dial(t, addr)
	c.login()
	for _, cmd := range []string{
		`CREATE "Ünï"`,
		`SELECT "Ünï"`,
		`EXAMINE "Ünï"`,
		`STATUS "Ünï" (MESSAGES)`,
		`DELETE "Ünï"`,
		`RENAME INBOX "Ünï"`,
		`SUBSCRIBE "Ünï"`,
		`UNSUBSCRIBE "Ünï"`,
		`GETQUOTAROOT "Ünï"`,
		`APPEND "Ünï" {5}`,
	} {
		c.expect("n", cmd, "NO")
	}
	c.send("l CREATE {5}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("literal: %q", l)
	}
	c.send("Ünï\r\n")
	if _, done := c.until("l"); !strings.HasPrefix(done, "l NO") {
		t.Fatalf("CREATE of a literal with 8-bit: %q", done)
	}
	if untagged := c.expect("l", `LIST "" "Ü*"`, "OK"); len(untagged) != 0 {
		t.Errorf("LIST of an 8-bit pattern: %q", untagged)
	}
	c.expect("c", `CREATE "&ANw-n&AO8-"`, "OK")
	if untagged := c.expect("l", `LIST "" "&ANw-*"`, "OK"); len(untagged) != 1 || !strings.HasSuffix(untagged[0], `"&ANw-n&AO8-"`) {
		t.Errorf("LIST in modified UTF-7: %q", untagged)
	}
	c.expect("s", `SELECT INBOX`, "OK")
	c.expect("n", `COPY 1:* "Ünï"`, "NO")

	u := dial(t, addr)
	u.login()
	u.expect("e", "ENABLE UTF8=ACCEPT", "OK")
	u.expect("c", `CREATE "Ünï/ä"`, "OK")
	u.expect("s", `STATUS "Ünï" (MESSAGES)`, "OK")
	u.expect("q", `GETQUOTAROOT "Ünï"`, "OK")
	if untagged := u.expect("l", `LIST "" "Ünï*"`, "OK"); len(untagged) != 2 || !strings.HasSuffix(untagged[0], `"Ünï"`) || !strings.HasSuffix(untagged[1], `"Ünï/ä"`) {
		t.Errorf("LIST in UTF-8: %q", untagged)
	}
	if untagged := c.expect("l", `LIST "" "&ANw-n&AO8-/*"`, "OK"); len(untagged) != 1 || !strings.HasSuffix(untagged[0], `"&ANw-n&AO8-/&AOQ-"`) {
		t.Errorf("LIST in modified UTF-7 of a name created in UTF-8: %q", untagged)
	}
}

// TestClientUTF8MailboxNames: the client sends a non-ASCII name in
// modified UTF-7 to a server offering IMAP4rev1 and IMAP4rev2 until it
// enables UTF8=ACCEPT, and in UTF-8 after; either way the server takes it.
// Upstream's client sent raw UTF-8 unannounced, which the server refuses.
func TestClientUTF8MailboxNames(t *testing.T) {
	addr := startServer(t, imapserver.Options{Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}}, nil)
	for i, enable := range []bool{false, true} {
		client, err := imapclient.DialInsecure(addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		if err := client.Login(testUser, testPassword).Wait(); err != nil {
			t.Fatal(err)
		}
		if enable {
			if _, err := client.Enable(imap.CapUTF8Accept).Wait(); err != nil {
				t.Fatal(err)
			}
		}
		name := []string{"Entwürfe", "Черновики"}[i]
		if err := client.Create(name, nil).Wait(); err != nil {
			t.Fatalf("CREATE %s (enabled: %v): %v", name, enable, err)
		}
		list, err := client.List("", name, nil).Collect()
		if err != nil || len(list) != 1 || list[0].Mailbox != name {
			t.Errorf("LIST %s: %+v, %v", name, list, err)
		}
	}
}

// countingListener counts the writes to its connections.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countingConn{c, l.writes}, err
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// idleSession writes an update as soon as IDLE begins.
type idleSession struct {
	imapserver.Session
}

func (s idleSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := w.WriteNumMessages(999); err != nil {
		return err
	}
	<-stop
	return nil
}

// TestCoalescedResponses: the responses of one command go out in a few
// writes, not one per line, and whatever the client waits for (a
// continuation request, IDLE's updates, the tagged response) is sent.
func TestCoalescedResponses(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	server := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return idleSession{mem.NewSession()}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	go server.Serve(countingListener{ln, &writes})
	t.Cleanup(func() { server.Close() })

	c := dial(t, ln.Addr().String())
	c.login()
	const n = 300
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("A APPEND INBOX {7+}\r\nSubj: x\r\n")
	}
	c.send(b.String())
	for i := 0; i < n; i++ {
		if _, done := c.until("A"); !strings.HasPrefix(done, "A OK") {
			t.Fatalf("APPEND: %q", done)
		}
	}
	// A synchronizing literal: the continuation request is sent at once.
	c.send("B APPEND INBOX {7}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("continuation request: %q", l)
	}
	c.send("Subj: y\r\n")
	c.until("B")
	c.expect("S", "SELECT INBOX", "OK")

	before := writes.Load()
	untagged := c.expect("F", "FETCH 1:* FLAGS", "OK")
	if len(untagged) != n+1 {
		t.Fatalf("%d FETCH responses, want %d", len(untagged), n+1)
	}
	if w := writes.Load() - before; w > 3 {
		t.Errorf("FETCH of %d messages took %d writes", n+1, w)
	}

	// IDLE: updates go out while the server waits for DONE.
	c.send("I IDLE\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE: %q", l)
	}
	if l := c.line(); l != "* 999 EXISTS" {
		t.Fatalf("IDLE update: %q", l)
	}
	c.send("DONE\r\n")
	c.until("I")
	c.expect("N", "NOOP", "OK")
}

// TestRefusedLiteral: a literal the server refuses ends the command at
// once; the data of a non-synchronizing one is dropped, not run as
// commands.
func TestRefusedLiteral(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	c.expect("a", "LOGIN {100000000}", "NO [TOOBIG]")
	// Commands inside the literal's data must not run.
	data := strings.Repeat("x NOOP\r\n", 1000)
	c.send("b LOGIN {" + strconv.Itoa(len(data)) + "+}\r\n" + data + " y\r\n")
	if untagged, done := c.until("b"); !strings.HasPrefix(done, "b BAD [TOOBIG]") || len(untagged) != 0 {
		t.Fatalf("non-synchronizing literal: %q after %q", done, untagged)
	}
	c.expect("c", "NOOP", "OK")
	c.login()
	c.expect("d", "SELECT {5000}", "NO [TOOBIG]")
	c.expect("e", "APPEND INBOX {100000000000}", "NO [TOOBIG]")
	c.send("f APPEND INBOX {" + strconv.Itoa(len(data)) + "+}\r\n" + data + "\r\n")
	if untagged, done := c.until("f"); !strings.HasPrefix(done, "f BAD [TOOBIG]") || len(untagged) != 0 {
		t.Fatalf("non-synchronizing APPEND literal: %q after %q", done, untagged)
	}
	c.expect("g", "NOOP", "OK")
	c.expect("h", "APPEND INBOX {5+}\r\nhello", "OK")
}

// TestLoginWithoutTLS: LOGIN without TLS is refused before its arguments
// are read, so that a password literal is not asked for in cleartext.
func TestLoginWithoutTLS(t *testing.T) {
	c := dial(t, startServerTLS(t))
	caps := capsOf(t, c)
	if !strings.Contains(caps, " STARTTLS ") || !strings.Contains(caps, " LOGINDISABLED ") || strings.Contains(caps, "AUTH=") {
		t.Errorf("capabilities without TLS: %q", caps)
	}
	// No continuation request for the password literal.
	c.expect("a", "LOGIN "+testUser+" {8}", "NO [PRIVACYREQUIRED]")
	c.expect("b", "AUTHENTICATE PLAIN", "NO [PRIVACYREQUIRED]")
	c.expect("c", "NOOP", "OK")
}

// startServerTLS runs a server that offers STARTTLS and requires TLS for
// logins.
func startServerTLS(t *testing.T) string {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	server := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}},
		TLSConfig: testTLSConfig(t),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(ln)
	t.Cleanup(func() { server.Close() })
	return ln.Addr().String()
}

// testTLSConfig is a server configuration with a fresh self-signed
// certificate.
func testTLSConfig(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// lineRecorder records the lines the server reads.
type lineRecorder struct {
	io.ReadWriter
	mu    *sync.Mutex
	lines *[]string
}

func (r lineRecorder) Read(b []byte) (int, error) {
	n, err := r.ReadWriter.Read(b)
	r.mu.Lock()
	*r.lines = append(*r.lines, strings.Split(string(b[:n]), "\r\n")...)
	r.mu.Unlock()
	return n, err
}

// TestStartTLSPipelining: what the client pipelines after STARTTLS is
// discarded (RFC 9051 6.2.1), and WrapReadWriter sees the cleartext
// before and after STARTTLS.
func TestStartTLSPipelining(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	var (
		mu      sync.Mutex
		lines   []string
		wrapped []io.ReadWriter
	)
	server := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}},
		TLSConfig: testTLSConfig(t),
		WrapReadWriter: func(conn *imapserver.Conn, rw io.ReadWriter) io.ReadWriter {
			mu.Lock()
			wrapped = append(wrapped, rw)
			mu.Unlock()
			return lineRecorder{rw, &mu, &lines}
		},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(ln)
	t.Cleanup(func() { server.Close() })

	c := dial(t, ln.Addr().String())
	c.send("a STARTTLS\r\nb LOGIN " + testUser + " " + testPassword + "\r\n")
	if l := c.line(); !strings.HasPrefix(l, "a OK") {
		t.Fatalf("STARTTLS: %q", l)
	}
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	if caps := capsOf(t, c); strings.Contains(caps, "STARTTLS") || !strings.Contains(caps, "AUTH=PLAIN") {
		t.Errorf("capabilities after STARTTLS: %q", caps)
	}
	// The pipelined LOGIN was not run.
	c.expect("d", "SELECT INBOX", "BAD")
	c.login()

	mu.Lock()
	defer mu.Unlock()
	if len(wrapped) != 2 {
		t.Fatalf("WrapReadWriter called %d times, want 2", len(wrapped))
	}
	if _, ok := wrapped[1].(*tls.Conn); !ok {
		t.Errorf("after STARTTLS, WrapReadWriter got %T", wrapped[1])
	}
	if !containsLine(lines, "C CAPABILITY") {
		t.Errorf("cleartext after STARTTLS not seen: %q", lines)
	}
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// expungeIssuedSession reports every search as one that left out messages
// another session expunged.
type expungeIssuedSession struct {
	imapserver.Session
}

func (s expungeIssuedSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	data, err := s.Session.Search(kind, criteria, options)
	if data != nil {
		data.ExpungeIssued = true
	}
	return data, err
}

// TestSearchExpungeIssued: SearchData.ExpungeIssued is the tagged OK's
// EXPUNGEISSUED code (RFC 9051 7.1), for SEARCH and UID SEARCH, and only
// there.
func TestSearchExpungeIssued(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		return expungeIssuedSession{s}
	}))
	c.login()
	c.expect("s", "SELECT INBOX", "OK [READ-WRITE]")
	if untagged := c.expect("a", "SEARCH ALL", "OK [EXPUNGEISSUED]"); !containsLine(untagged, "* SEARCH") {
		t.Errorf("SEARCH: %q", untagged)
	}
	c.expect("b", "UID SEARCH ALL", "OK [EXPUNGEISSUED]")
	if _, done := c.cmd("c", "NOOP"); done != "c OK NOOP completed" {
		t.Errorf("NOOP after: %q", done)
	}
}

// routeSession answers every FETCH with one message whose From has a
// source route.
type routeSession struct {
	imapserver.Session
}

func (s routeSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	m := w.CreateMessage(1)
	m.WriteEnvelope(&imap.Envelope{From: []imap.Address{
		{Route: "@route", Mailbox: "user", Host: "domain"},
		{Name: "Two", Route: "@a.example,@b.example", Mailbox: "u2", Host: "d2"},
		{Mailbox: "u3", Host: "d3"},
	}})
	return m.Close()
}

// TestEnvelopeRoute: an address's source route is ENVELOPE's addr-adl
// (RFC 9051 7.5.2), written and read back; upstream wrote NIL.
func TestEnvelopeRoute(t *testing.T) {
	addr := startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		return routeSession{s}
	})
	c := dial(t, addr)
	c.login()
	c.expect("s", "SELECT INBOX", "OK")
	untagged := c.expect("f", "FETCH 1 ENVELOPE", "OK")
	want := `* 1 FETCH (ENVELOPE (NIL NIL ((NIL "@route" "user" "domain") ("Two" "@a.example,@b.example" "u2" "d2") (NIL NIL "u3" "d3"))`
	if len(untagged) != 1 || !strings.HasPrefix(untagged[0], want) {
		t.Fatalf("FETCH ENVELOPE: %q, want %s...", untagged, want)
	}

	client, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Login(testUser, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := client.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Envelope == nil || len(msgs[0].Envelope.From) != 3 {
		t.Fatalf("imapclient FETCH: %+v", msgs)
	}
	for i, route := range []string{"@route", "@a.example,@b.example", ""} {
		if got := msgs[0].Envelope.From[i].Route; got != route {
			t.Errorf("imapclient: address %d route %q, want %q", i, got, route)
		}
	}
}
