package imapserver_test

// postdesk: tests of patches 11 to 17 (PATCHES.md): what the server reads
// as a command, and what a Session learns of it and may write.

import (
	"encoding/base64"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// noMore checks that the next response is the tagged answer to a NOOP, so
// that nothing sent before was run as a command.
func (c *rawClient) noMore() {
	c.t.Helper()
	if untagged, done := c.cmd("Z", "NOOP"); !strings.HasPrefix(done, "Z OK") || len(untagged) != 0 {
		c.t.Fatalf("NOOP: %q after %q", done, untagged)
	}
}

// expectLine checks the next line.
func (c *rawClient) expectLine(want string) {
	c.t.Helper()
	if l := c.line(); !strings.HasPrefix(l, want) {
		c.t.Fatalf("got %q, want %s", l, want)
	}
}

// TestLiteralAfterSyntaxError: a command answered before its end (a syntax
// error) is skipped to its end: the data of a non-synchronizing literal
// on its line is not read as commands (patch 11).
func TestLiteralAfterSyntaxError(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	data := "x NOOP\r\n"
	n := strconv.Itoa(len(data))
	c.send("a NOOP {" + n + "+}\r\n" + data + "\r\n")
	c.expectLine("a BAD")
	c.noMore()
	// A synchronizing literal: the client gets no continuation request.
	c.expect("b", "NOOP {8}", "BAD")
	c.noMore()
	// The error comes after a literal, and a second literal follows.
	c.send("c LOGIN {4}\r\n")
	c.expectLine("+")
	c.send("user password extra {" + n + "+}\r\n" + data + " {" + n + "+}\r\n" + data + "\r\n")
	c.expectLine("c BAD")
	c.noMore()
	// One too large to read and drop ends the connection.
	c.send("d NOOP {2000000+}\r\n")
	c.expectLine("d BAD")
	c.expectLine("* BYE [TOOBIG]")
	if l, err := c.r.ReadString('\n'); err != io.EOF {
		t.Fatalf("after BYE: %q, %v", l, err)
	}
}

// TestCommandLineTooLong: a line longer than the limit is answered BAD
// [TOOBIG] and skipped whole (patch 12).
func TestCommandLineTooLong(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	long := strings.Repeat("x", 60<<10)
	for _, line := range []string{
		"a NOOP " + long,
		"a SELECT " + long + " z NOOP",
		"a LOGIN user " + long,
		"a" + long,                               // the tag
		"a NOOP" + long,                          // the command name
		"a NOOP " + long + " {8+}\r\nx NOOP\r\n", // and a literal
	} {
		c.send(line + "\r\n")
		l := c.line()
		if !strings.HasSuffix(l, "BAD [TOOBIG] Command line too long") || (!strings.HasPrefix(l, "a ") && !strings.HasPrefix(l, "* ")) {
			t.Fatalf("%.20q...: %q", line, l)
		}
		c.noMore()
	}
	// Just below the limit, a command runs.
	c.login()
	c.expect("s", "SELECT INBOX", "OK")
	c.expect("f", "FETCH 1:"+strings.Repeat("1", 40<<10)+" FLAGS", "BAD [CLIENTBUG]")
}

// TestNotACommand: an empty line, a bad tag, a missing command name are
// answered BAD; the connection stays, also before login (patch 13).
func TestNotACommand(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	for _, c2 := range []struct{ line, want string }{
		{"", "* BAD Empty command line"},
		{" ", "* BAD Empty command line"},
		{"(bad NOOP", "* BAD Invalid tag"},
		{"a+b NOOP", "* BAD Invalid tag"},
		{"a(b NOOP", "* BAD Invalid tag"},
		{"+ NOOP", "* BAD Invalid tag"},
		{"\x01 NOOP", "* BAD Invalid tag"},
		{"a", "a BAD Missing command"},
		{"a ", "a BAD Missing command"},
		{"a (NOOP", "a BAD Missing command"},
		{"a UID", "a BAD Missing command"},
		{"a UID ", "a BAD Missing command"},
		{"a] NOOP", "a] OK"}, // "]" is an ASTRING-CHAR
	} {
		c.send(c2.line + "\r\n")
		if l := c.line(); !strings.HasPrefix(l, c2.want) {
			t.Fatalf("%q: %q, want %s", c2.line, l, c2.want)
		}
	}
	// A bad tag before a non-synchronizing literal: its data is skipped.
	c.send("(bad {8+}\r\nx NOOP\r\n\r\n")
	c.expectLine("* BAD Invalid tag")
	c.noMore()
	c.login()
}

// TestLongIdleAndSASLLines: a line too long ending IDLE or answering an
// AUTHENTICATE challenge ends the command with BAD; no part of it is read
// as a command (patch 14).
func TestLongIdleAndSASLLines(t *testing.T) {
	c := dial(t, startServer(t, imapserver.Options{}, nil))
	// Upstream read 4 KiB of such a line and the rest as commands.
	long := strings.Repeat(" ", 5000) + "z NOOP\r\n"

	c.send("a AUTHENTICATE PLAIN\r\n")
	c.expectLine("+")
	c.send(strings.Repeat(" ", 60<<10) + "z NOOP\r\n")
	c.expectLine("a BAD [TOOBIG] SASL response too long")
	c.noMore()
	// A response longer than 4 KiB but within the limit is read whole.
	c.send("b AUTHENTICATE PLAIN\r\n")
	c.expectLine("+")
	c.send(base64.StdEncoding.EncodeToString([]byte("\x00"+testUser+"\x00"+strings.Repeat("p", 5000))) + "\r\n")
	c.expectLine("b NO [AUTHENTICATIONFAILED]")
	c.noMore()
	c.send("c AUTHENTICATE PLAIN\r\n")
	c.expectLine("+")
	c.send(base64.StdEncoding.EncodeToString([]byte("\x00"+testUser+"\x00"+testPassword)) + "\r\n")
	c.expectLine("c OK")

	c.send("i IDLE\r\n")
	c.expectLine("+")
	c.send(long)
	c.expectLine("i BAD")
	c.noMore()
	c.send("j IDLE\r\n")
	c.expectLine("+")
	c.send("DONE\r\n")
	c.expectLine("j OK")
}

// commandSession records the name of the command each method is called
// for (Conn.Command) and announces a keyword before FETCH's responses
// (FetchWriter.WriteMailboxFlags).
type commandSession struct {
	imapserver.Session
	conn *imapserver.Conn
	mu   *sync.Mutex
	seen *[]string
}

func (s commandSession) note() {
	s.mu.Lock()
	*s.seen = append(*s.seen, s.conn.Command())
	s.mu.Unlock()
}

func (s commandSession) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	s.note()
	return s.Session.List(w, ref, patterns, options)
}

func (s commandSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	s.note()
	return s.Session.Store(w, numSet, flags, options)
}

func (s commandSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	s.note()
	flags := []imap.Flag{imap.FlagSeen, "$New"}
	if err := w.WriteMailboxFlags(flags); err != nil {
		return err
	}
	if err := w.WritePermanentFlags(append(flags, imap.FlagWildcard)); err != nil {
		return err
	}
	return s.Session.Fetch(w, numSet, options)
}

// startConnServer is startServer with sessions made by wrap, which gets
// the connection.
func startConnServer(t *testing.T, wrap func(*imapserver.Conn, imapserver.Session) imapserver.Session) string {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	user.Append("INBOX", strings.NewReader("Subject: one\r\n\r\nbody\r\n"), &imap.AppendOptions{})
	mem.AddUser(user)
	server := imapserver.New(&imapserver.Options{
		NewSession: func(conn *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return wrap(conn, mem.NewSession()), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(ln)
	t.Cleanup(func() { server.Close() })
	return ln.Addr().String()
}

// TestCommandName: a Session learns the name of the command it answers
// (Conn.Command, patch 15), and may announce flags between FETCH
// responses (FetchWriter.WriteMailboxFlags, WritePermanentFlags, patch
// 16).
func TestCommandName(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	addr := startConnServer(t, func(conn *imapserver.Conn, s imapserver.Session) imapserver.Session {
		return commandSession{Session: s, conn: conn, mu: &mu, seen: &seen}
	})
	c := dial(t, addr)
	c.login()
	c.expect("l", `LIST "" *`, "OK")
	c.expect("l", `lsub "" *`, "OK")
	c.expect("l", `LIST (SUBSCRIBED RECURSIVEMATCH) "" *`, "OK")
	c.expect("s", "SELECT INBOX", "OK")
	lines := c.expect("f", "uid fetch 1:* FLAGS", "OK")
	want := []string{`* FLAGS (\Seen $New)`, `* OK [PERMANENTFLAGS (\Seen $New \*)]`, "* 1 FETCH"}
	if len(lines) != len(want) {
		t.Fatalf("FETCH: %q", lines)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Fatalf("FETCH: %q, want %q first", lines, want)
		}
	}
	c.expect("f", "FETCH 1 FLAGS", "OK")
	c.expect("t", `STORE 1 +FLAGS (\Seen)`, "OK")
	c.expect("t", `UID STORE $ +FLAGS (\Seen)`, "")
	mu.Lock()
	defer mu.Unlock()
	if got, want := strings.Join(seen, ","), "LIST,LSUB,LIST,UID FETCH,FETCH,STORE,UID STORE"; got != want {
		t.Fatalf("commands %s, want %s", got, want)
	}
}

// blockingSession's FETCH holds a response open until release is closed.
type blockingSession struct {
	imapserver.Session
	started chan struct{}
	release chan struct{}
}

func (s blockingSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	resp := w.CreateMessage(1)
	close(s.started)
	<-s.release
	resp.WriteUID(1)
	return resp.Close()
}

// TestByeFromAnotherGoroutine: Conn.Bye from another goroutine says BYE
// between two responses (also during IDLE), or, in the middle of one,
// closes the connection without it after a moment (patch 17).
func TestByeFromAnotherGoroutine(t *testing.T) {
	var (
		mu    sync.Mutex
		conns []*imapserver.Conn
	)
	block := blockingSession{started: make(chan struct{}), release: make(chan struct{})}
	addr := startConnServer(t, func(conn *imapserver.Conn, s imapserver.Session) imapserver.Session {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, conn)
		if len(conns) == 3 {
			block.Session = s
			return block
		}
		return s
	})
	connAt := func(i int) *imapserver.Conn {
		mu.Lock()
		defer mu.Unlock()
		return conns[i]
	}
	eof := func(c *rawClient) {
		t.Helper()
		if l, err := c.r.ReadString('\n'); err != io.EOF {
			t.Fatalf("after BYE: %q, %v", l, err)
		}
	}

	// Between commands.
	c := dial(t, addr)
	c.login()
	connAt(0).Bye("Going away")
	c.expectLine("* BYE Going away")
	eof(c)

	// During IDLE.
	c = dial(t, addr)
	c.login()
	c.expect("s", "SELECT INBOX", "OK")
	c.send("i IDLE\r\n")
	c.expectLine("+")
	connAt(1).Bye("Going away")
	c.expectLine("* BYE Going away")
	eof(c)

	// In the middle of a FETCH response: no BYE inside it.
	c = dial(t, addr)
	c.login()
	c.expect("s", "SELECT INBOX", "OK")
	c.send("f FETCH 1 UID\r\n")
	<-block.started
	start := time.Now()
	connAt(2).Bye("Going away")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Bye waited %v", d)
	}
	close(block.release)
	for {
		l, err := c.r.ReadString('\n')
		if strings.Contains(l, "BYE") {
			t.Fatalf("BYE in the middle of a response: %q", l)
		}
		if err != nil {
			break
		}
	}
}
