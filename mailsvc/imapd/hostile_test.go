package imapd_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestHostile: what go-imap v2 alone gets wrong, and other hostile input,
// is answered BAD or NO at once, leaks nothing, and leaves the session
// (and others) usable.
func TestHostile(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	e.deliver(e.john, "", msgPlain)
	other := e.raw(true)
	other.login("ann@example.test")
	r := e.raw(true)

	start := time.Now()
	r.expect("a", "LOGIN {100000000}", "NO [TOOBIG]")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("LOGIN {100000000} answered after %v", d)
	}
	r.send("b LOGIN {5000+}\r\n" + strings.Repeat("x", 5000) + " y\r\n")
	r.until("b")
	r.expect("c", "NOOP", "OK")
	r.send("\r\n")
	if l := r.line(); !strings.HasPrefix(l, "* BAD") {
		t.Fatalf("empty line: %q", l)
	}
	r.send("(bad NOOP\r\n")
	if l := r.line(); !strings.HasPrefix(l, "* BAD") {
		t.Fatalf("bad tag: %q", l)
	}
	r.expect("d", "NOOP "+strings.Repeat("x", 100<<10), "BAD")
	// Before login, with literals, as go-imap wants them.
	r.send("e LOGIN {17}\r\n")
	if l := r.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("literal: %q", l)
	}
	r.send("john@example.test " + quote(password) + "\r\n")
	r.until("e")
	r.expect("s", "SELECT INBOX", "OK")

	for _, c := range []struct{ cmd, want string }{
		{"FETCH 0 FLAGS", "BAD"},
		{"FETCH 1:4294967296 FLAGS", "BAD"},
		{"FETCH 4294967295 FLAGS", "OK"},
		{"UID FETCH 0:5 FLAGS", "BAD"},
		{"STORE 0 +FLAGS (\\Seen)", "BAD"},
		{"COPY 1:x Trash", "BAD"},
		{"FETCH 1 (FLAGS", "BAD"},
		{"SEARCH SENTBEFORE 31-Foo-2020", "BAD"},
		{"SELECT {5000}", "NO [TOOBIG]"},
		{`CREATE "../../x"`, "NO"},
		{`CREATE "a/../b"`, "NO"},
		{`CREATE "&Jjo"`, "NO"},
		{`CREATE "&AGE-"`, "NO"}, // encoded ASCII
		{`CREATE "` + strings.Repeat("n", 10<<10) + `"`, "NO"},
		{`CREATE "a%b"`, "NO"},
		{`SELECT "../INBOX"`, "NO"},
		{`RENAME INBOX "../../etc"`, "NO"},
		{"GETQUOTAROOT Nope", "NO"},
		{"SETQUOTA \"\" (STORAGE 1)", "NO"},
		{"UNKNOWNCMD", "BAD"},
	} {
		r.expect("h", c.cmd, c.want)
	}
	// A NUL in a literal mailbox name.
	r.send("n CREATE {3}\r\n")
	r.line()
	r.send("a\x00b\r\n")
	if _, done := r.until("n"); !strings.HasPrefix(done, "n NO") && !strings.HasPrefix(done, "n BAD") {
		t.Fatalf("NUL name: %q", done)
	}
	// A non-synchronizing literal over 4096 bytes (we announce LITERAL-).
	r.send("l CREATE {5000+}\r\n" + strings.Repeat("z", 5000) + "\r\n")
	if _, done := r.until("l"); !strings.HasPrefix(done, "l BAD [TOOBIG]") {
		t.Fatalf("big non-sync literal: %q", done)
	}
	lines := r.expect("i", "ID (\"name\" \"test\")", "OK")
	if !hasLine(lines, `* ID ("name" "Postdesk")`) {
		t.Fatalf("ID: %q", lines)
	}
	r.expect("s", "SELECT INBOX", "OK") // the failed SELECT above closed INBOX
	lines = r.expect("z", "FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]", "OK")
	if !hasLine(lines, "FETCH") {
		t.Fatalf("session unusable after hostile input: %q", lines)
	}
	other.expect("o", "NOOP", "OK")
}

// TestDeepMIME: a message nested past the limit is one opaque part, and
// BODYSTRUCTURE stays quick.
func TestDeepMIME(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	var b bytes.Buffer
	b.WriteString("Subject: deep\r\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	e.deliver(e.john, "", b.String())
	r := e.raw(true)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
	start := time.Now()
	lines := r.expect("f", "FETCH 1 BODYSTRUCTURE", "OK")
	if d := time.Since(start); d > 2*time.Second || !hasLine(lines, `"application" "octet-stream"`) {
		t.Fatalf("deep BODYSTRUCTURE in %v: %.200q", d, lines)
	}
}

// TestTLS: without AllowPlaintextAuth, plain connections may only start
// TLS; what is pipelined after STARTTLS is discarded.
func TestTLS(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	r := e.raw(false)
	lines := r.expect("a", "CAPABILITY", "OK")
	caps := strings.Join(lines, " ")
	if !strings.Contains(caps, "STARTTLS") || !strings.Contains(caps, "LOGINDISABLED") || strings.Contains(caps, "AUTH=PLAIN") {
		t.Fatalf("plain capabilities %q", caps)
	}
	r.expect("b", "LOGIN john@example.test "+quote(password), "NO [PRIVACYREQUIRED]")
	r.expect("c", "AUTHENTICATE PLAIN", "NO [PRIVACYREQUIRED]")
	r.send("d STARTTLS\r\ne LOGIN john@example.test " + quote(password) + "\r\n")
	if l := r.line(); !strings.HasPrefix(l, "d OK") {
		t.Fatalf("starttls %q", l)
	}
	tc := tls.Client(r.conn, e.clientTLS)
	tcheck(t, tc.Handshake(), "handshake")
	r.conn = tc
	r.r.Reset(tc)
	lines = r.expect("f", "CAPABILITY", "OK")
	caps = strings.Join(lines, " ")
	if strings.Contains(caps, "STARTTLS") || strings.Contains(caps, "LOGINDISABLED") || !strings.Contains(caps, "AUTH=PLAIN") {
		t.Fatalf("TLS capabilities %q", caps)
	}
	// The pipelined LOGIN was not run: we are not logged in.
	r.expect("g", "SELECT INBOX", "BAD")
	r.expect("h", "STARTTLS", "BAD")
	r.login("john@example.test")
	lines = r.expect("i", "CAPABILITY", "OK")
	if !hasLine(lines, "QUOTA") {
		t.Fatalf("no QUOTA after login: %q", lines)
	}

	// With AllowPlaintextAuth, plain logins work (tests, development).
	e2 := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) { c.AllowPlaintextAuth = true })
	r = e2.raw(false)
	r.login("john@example.test")
}
