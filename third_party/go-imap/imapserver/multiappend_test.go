package imapserver_test

// postdesk: tests of patch 22, MULTIAPPEND (RFC 3502).

import (
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// multiSession records what its Appenders get.
type multiSession struct {
	imapserver.Session
	held      []string
	committed []string
	aborted   bool
}

var _ imapserver.SessionMultiAppend = (*multiSession)(nil)

func (s *multiSession) BeginAppend(mailbox string) (imapserver.Appender, error) {
	if mailbox != "INBOX" {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	}
	s.held, s.aborted = nil, false
	return s, nil
}

func (s *multiSession) Add(r imap.LiteralReader, options *imap.AppendOptions) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if string(b) == "refuse" {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeOverQuota, Text: "Over quota"}
	}
	s.held = append(s.held, string(b)+"/"+strings.Join(flagStrings(options.Flags), ","))
	if options.Binary {
		s.held[len(s.held)-1] += "/binary"
	}
	return nil
}

func flagStrings(fl []imap.Flag) []string {
	out := make([]string, len(fl))
	for i, f := range fl {
		out[i] = string(f)
	}
	return out
}

func (s *multiSession) Commit() (uint32, []imap.UID, error) {
	s.committed = append(s.committed, s.held...)
	uids := make([]imap.UID, len(s.held))
	for i := range uids {
		uids[i] = imap.UID(10 + i)
	}
	return 7, uids, nil
}

func (s *multiSession) Abort() { s.aborted = true }

// TestMultiAppend: the messages of one APPEND reach the Appender in
// order and are committed together; a refused one aborts them all; a
// missing mailbox is refused before the data.
func TestMultiAppend(t *testing.T) {
	var sess *multiSession
	c := dial(t, startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		sess = &multiSession{Session: s}
		return sess
	}))
	c.login()
	if !strings.Contains(capsOf(t, c), " MULTIAPPEND ") {
		t.Fatal("MULTIAPPEND not announced")
	}
	c.send("a APPEND INBOX (\\Seen) {3}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("first literal: %q", l)
	}
	c.send("one \"01-Jan-2020 10:00:00 +0000\" {3}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("second literal: %q", l)
	}
	c.send("two ~{3}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("third literal: %q", l)
	}
	c.send("bin\r\n")
	if _, done := c.until("a"); done != "a OK [APPENDUID 7 10:12] APPEND completed" {
		t.Fatalf("APPEND of three: %q", done)
	}
	if got := strings.Join(sess.committed, " "); got != `one/\Seen two/ bin//binary` || sess.aborted {
		t.Fatalf("committed %q, aborted %v", got, sess.aborted)
	}

	sess.committed = nil
	_, done := c.cmd("b", "APPEND INBOX {3+}\r\none {6+}\r\nrefuse {3+}\r\nsix")
	if !strings.HasPrefix(done, "b NO [OVERQUOTA]") || sess.committed != nil || !sess.aborted {
		t.Fatalf("APPEND with a refused message: %q, committed %q, aborted %v", done, sess.committed, sess.aborted)
	}
	c.expect("n", "NOOP", "OK")
	// With synchronizing literals, no "+" after the refused one.
	c.send("d APPEND INBOX {6}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("literal: %q", l)
	}
	c.send("refuse {3}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "d NO [OVERQUOTA]") {
		t.Fatalf("after a refused message: %q", l)
	}
	c.expect("n", "NOOP", "OK")

	c.send("c APPEND Nowhere {5}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "c NO [TRYCREATE]") {
		t.Fatalf("APPEND to a missing mailbox: %q", l)
	}
	c.expect("n", "NOOP", "OK")
}
