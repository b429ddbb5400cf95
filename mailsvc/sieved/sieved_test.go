package sieved_test

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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/sieved"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const password = "Xk9#mq2!pLw7z"

var sys = tenants.SystemScope("test")

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

type env struct {
	t         *testing.T
	ts        *tenants.Service
	addr      string
	certFile  string
	clientTLS *tls.Config
	john      address.Address
	jane      address.Address
}

func newEnv(t *testing.T, db *database.DB) *env {
	ctx := context.Background()
	e := &env{t: t, ts: tenantstest.Service(db, nil)}
	for _, d := range []string{"example.test", "other.test"} {
		_, err := e.ts.CreateDomain(ctx, sys, address.Domain(d), "")
		tcheck(t, err, "domain")
	}
	e.john = address.Address{Local: "john", Domain: "example.test"}
	e.jane = address.Address{Local: "jane", Domain: "other.test"}
	for _, a := range []address.Address{e.john, e.jane} {
		_, err := e.ts.CreateMailbox(ctx, sys, tenants.NewMailbox{Address: a, Password: password, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox")
	}
	dir := t.TempDir()
	certs, _, err := tlscert.Open("", "", dir, "localhost")
	tcheck(t, err, "tls")
	e.certFile = filepath.Join(dir, "tls", "selfsigned.crt")
	leaf, _ := certs.Leaf()
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	e.clientTLS = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	s, err := sieved.New(sieved.Config{Tenants: e.ts, TLS: certs.Config(),
		Logger: slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	tcheck(t, err, "server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "listen")
	e.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return e
}

// client is a ManageSieve client written from RFC 5804, reading the
// server's responses as a client must (literals included).
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (e *env) dial() *client {
	c, err := net.Dial("tcp", e.addr)
	tcheck(e.t, err, "dial")
	e.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cl := &client{t: e.t, conn: c, r: bufio.NewReader(c)}
	cl.response() // capabilities and OK
	return cl
}

// response reads lines up to the OK, NO or BYE that ends a response; it
// returns the lines before it (literals read whole) and that last line.
func (c *client) response() ([]string, string) {
	c.t.Helper()
	var lines []string
	for {
		l, err := c.r.ReadString('\n')
		tcheck(c.t, err, "read response")
		l = strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(l, "{") && strings.HasSuffix(l, "}") {
			n, err := strconv.Atoi(l[1 : len(l)-1])
			tcheck(c.t, err, "literal size")
			buf := make([]byte, n)
			_, err = io.ReadFull(c.r, buf)
			tcheck(c.t, err, "literal")
			lines = append(lines, string(buf))
			// The rest of the line the literal is part of.
			if rest, err := c.r.ReadString('\n'); err != nil || strings.TrimRight(rest, "\r\n") != "" {
				c.t.Fatalf("after a literal: %q %v", rest, err)
			}
			continue
		}
		for _, end := range []string{"OK", "NO", "BYE"} {
			if l == end || strings.HasPrefix(l, end+" ") {
				return lines, l
			}
		}
		lines = append(lines, l)
	}
}

func (c *client) cmd(line string) ([]string, string) {
	c.t.Helper()
	_, err := io.WriteString(c.conn, line+"\r\n")
	tcheck(c.t, err, "write")
	return c.response()
}

func (c *client) starttls(cfg *tls.Config) {
	c.t.Helper()
	if _, last := c.cmd("STARTTLS"); !strings.HasPrefix(last, "OK") {
		c.t.Fatalf("STARTTLS: %s", last)
	}
	tc := tls.Client(c.conn, cfg)
	tcheck(c.t, tc.Handshake(), "handshake")
	c.conn, c.r = tc, bufio.NewReader(tc)
	caps, last := c.response()
	if !strings.HasPrefix(last, "OK") || !strings.Contains(strings.Join(caps, "\n"), `"SASL" "PLAIN"`) {
		c.t.Fatalf("capabilities after STARTTLS: %q %s", caps, last)
	}
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func literal(s string) string { return fmt.Sprintf("{%d+}\r\n%s", len(s), s) }

// TestManageSieve drives every command over STARTTLS with both login
// forms: the answers and response codes RFC 5804 gives, a script that
// does not compile refused with a reason and nothing stored, one user's
// scripts out of another's reach, and the rules (no login before TLS,
// the active script not deleted, a script past the size refused).
func TestManageSieve(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		c := e.dial()
		if _, last := c.cmd(`AUTHENTICATE "PLAIN" "` + plain("john@example.test", password) + `"`); !strings.HasPrefix(last, "NO (ENCRYPT-NEEDED)") {
			t.Errorf("login in the clear: %s, want NO (ENCRYPT-NEEDED)", last)
		}
		c.starttls(e.clientTLS)
		if _, last := c.cmd(`AUTHENTICATE "PLAIN" "` + plain("john@example.test", "wrong") + `"`); !strings.HasPrefix(last, "NO") {
			t.Errorf("wrong password: %s", last)
		}
		if _, last := c.cmd(`LISTSCRIPTS`); !strings.HasPrefix(last, "NO") {
			t.Errorf("LISTSCRIPTS before login: %s", last)
		}
		// user/domain, and the SASL response after an empty challenge.
		if _, last := c.cmd(`AUTHENTICATE "PLAIN"` + "\r\n" + `"` + plain("john/example.test", password) + `"`); !strings.HasPrefix(last, "OK") {
			t.Fatalf("login john/example.test: %s", last)
		}
		script := "require \"fileinto\";\r\nif header :contains \"subject\" \"x\" { fileinto \"Junk\"; }\r\n"
		for _, step := range []struct{ cmd, want string }{
			{`HAVESPACE "main" 100`, "OK"},
			{`HAVESPACE "main" 1000000`, "NO (QUOTA/MAXSIZE)"},
			{`CHECKSCRIPT ` + literal("if {"), "NO"},
			{`PUTSCRIPT "bad" ` + literal("if {"), "NO"},
			{`PUTSCRIPT "main" ` + literal(script), "OK"},
			{`PUTSCRIPT "spare" "keep;"`, "OK"},
			{`CHECKSCRIPT "keep;"`, "OK"},
			{`SETACTIVE "main"`, "OK"},
			{`SETACTIVE "nothing"`, "NO (NONEXISTENT)"},
			{`DELETESCRIPT "main"`, "NO (ACTIVE)"},
			{`RENAMESCRIPT "spare" "main"`, "NO (ALREADYEXISTS)"},
			{`RENAMESCRIPT "spare" "old"`, "OK"},
			{`GETSCRIPT "gone"`, "NO (NONEXISTENT)"},
			{`PUTSCRIPT "big" ` + literal("#"+strings.Repeat("x", tenants.MaxSieveScriptBytes)), "NO (QUOTA/MAXSIZE)"},
		} {
			if _, last := c.cmd(step.cmd); !strings.HasPrefix(last, step.want) {
				t.Errorf("%.60q: %s, want %s", step.cmd, last, step.want)
			}
		}
		lines, last := c.cmd("LISTSCRIPTS")
		if got := strings.Join(lines, ","); got != `"main" ACTIVE,"old"` || last != `OK "Listscripts completed"` {
			t.Errorf("LISTSCRIPTS: %s %s", got, last)
		}
		lines, last = c.cmd(`GETSCRIPT "main"`)
		if len(lines) != 1 || lines[0] != script || !strings.HasPrefix(last, "OK") {
			t.Errorf("GETSCRIPT: %q %s", lines, last)
		}
		if _, last := c.cmd(`DELETESCRIPT "old"`); !strings.HasPrefix(last, "OK") {
			t.Errorf("DELETESCRIPT: %s", last)
		}
		if _, last := c.cmd(`LOGOUT`); !strings.HasPrefix(last, "OK") {
			t.Errorf("LOGOUT: %s", last)
		}
		sc, err := e.ts.ActiveSieve(context.Background(), mustMailbox(t, e, e.john))
		if err != nil || sc.Name != "main" || sc.Content != script {
			t.Errorf("active script of john: %+v %v", sc, err)
		}

		// jane, of another domain, sees none of john's.
		c2 := e.dial()
		c2.starttls(e.clientTLS)
		if _, last := c2.cmd(`AUTHENTICATE "PLAIN" ` + literal(plain("jane@other.test", password))); !strings.HasPrefix(last, "OK") {
			t.Fatalf("login jane: %s", last)
		}
		if lines, _ := c2.cmd("LISTSCRIPTS"); len(lines) != 0 {
			t.Errorf("jane lists %q", lines)
		}
		if _, last := c2.cmd(`GETSCRIPT "main"`); !strings.HasPrefix(last, "NO (NONEXISTENT)") {
			t.Errorf("jane gets john's script: %s", last)
		}
	})
}

// TestManageSieveBadInput: a literal past the bound ends the session
// without its data being read; a line past the bound likewise; a command
// with too many strings is refused.
func TestManageSieveBadInput(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		c := e.dial()
		if _, last := c.cmd(`PUTSCRIPT "x" {2000000000+}`); !strings.HasPrefix(last, "BYE") {
			t.Errorf("huge literal: %s, want BYE", last)
		}
		c = e.dial()
		if _, last := c.cmd("NOOP " + strings.Repeat("a", 10000)); !strings.HasPrefix(last, "BYE") {
			t.Errorf("long line: %s, want BYE", last)
		}
		c = e.dial()
		if _, last := c.cmd("NOOP" + strings.Repeat(` "a"`, 20)); !strings.HasPrefix(last, "NO") {
			t.Errorf("many strings: %s, want NO", last)
		}
		if _, last := c.cmd("NOOP"); !strings.HasPrefix(last, "OK") {
			t.Errorf("NOOP after a refused command: %s", last)
		}
	})
}

func mustMailbox(t *testing.T, e *env, a address.Address) int64 {
	m, err := e.ts.Mailbox(context.Background(), sys, a)
	tcheck(t, err, "mailbox")
	return m.ID
}

// TestSieveConnect uploads, lists, activates, downloads and deletes
// scripts with Debian's sieve-connect, over STARTTLS with certificate
// verification, logging in as user@domain.
func TestSieveConnect(t *testing.T) {
	bin := mailtest.SieveConnect(t)
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		host, port, _ := net.SplitHostPort(e.addr)
		dir := t.TempDir()
		local := filepath.Join(dir, "rules.sieve")
		script := "require [\"fileinto\"];\nif address :domain \"from\" \"lists.test\" { fileinto \"Junk\"; }\n"
		tcheck(t, os.WriteFile(local, []byte(script), 0o600), "script file")
		run := func(args ...string) string {
			t.Helper()
			all := append([]string{"--server", host, "--port", port, "--user", "john@example.test", "--passwordfd", "3",
				"--tlscafile", e.certFile, "--tlshostname", "localhost", "--authmech", "PLAIN"}, args...)
			cmd := exec.Command(bin, all...)
			pr, pw, err := os.Pipe()
			tcheck(t, err, "pipe")
			cmd.ExtraFiles = []*os.File{pr}
			go func() {
				io.WriteString(pw, password+"\n")
				pw.Close()
			}()
			out, err := cmd.CombinedOutput()
			pr.Close()
			if err != nil {
				t.Fatalf("sieve-connect %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return string(out)
		}
		run("--upload", "--localsieve", local, "--remotesieve", "rules")
		run("--activate", "--remotesieve", "rules")
		if out := run("--list"); !strings.Contains(out, `"rules" ACTIVE`) {
			t.Errorf("list: %s", out)
		}
		back := filepath.Join(dir, "back.sieve")
		run("--download", "--remotesieve", "rules", "--localsieve", back)
		got, err := os.ReadFile(back)
		tcheck(t, err, "downloaded")
		if strings.ReplaceAll(string(got), "\r\n", "\n") != script {
			t.Errorf("downloaded %q, want %q", got, script)
		}
		sc, err := e.ts.ActiveSieve(context.Background(), mustMailbox(t, e, e.john))
		if err != nil || sc.Name != "rules" {
			t.Errorf("active: %+v %v", sc, err)
		}
		run("--deactivate")
		run("--delete", "--remotesieve", "rules")
		list, err := e.ts.SieveScripts(context.Background(), sys, e.john)
		tcheck(t, err, "list")
		if len(list) != 0 {
			t.Errorf("%d scripts left", len(list))
		}
	})
}
