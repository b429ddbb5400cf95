package smtp_test

import (
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// Tests of the Postdesk patches (PATCHES.md) over a connection.

func expectReply(t *testing.T, scanner interface {
	Scan() bool
	Text() string
}, prefix, what string) {
	t.Helper()
	if !scanner.Scan() {
		t.Fatalf("%s: connection closed, want %q", what, prefix)
	}
	if got := scanner.Text(); !strings.HasPrefix(got, prefix) {
		t.Fatalf("%s: got %q, want %q", what, got, prefix)
	}
}

// TestPostdeskDataLineLength: with MaxDataLineLength a text line longer
// than MaxLineLength is taken, one past MaxDataLineLength is refused with
// 554 5.6.0 after the real end of data (the session goes on), and command
// lines keep MaxLineLength.
func TestPostdeskDataLineLength(t *testing.T) {
	be, s, c, scanner, _ := testServerEhlo(t, func(s *smtp.Server) {
		s.MaxLineLength = 100
		s.MaxDataLineLength = 1000
	})
	defer s.Close()
	defer c.Close()

	long := strings.Repeat("x", 998) // 1000 octets with CRLF: the limit
	io.WriteString(c, "MAIL FROM:<root@nsa.gov>\r\nRCPT TO:<root@gchq.gov.uk>\r\nDATA\r\n")
	expectReply(t, scanner, "250 ", "MAIL")
	expectReply(t, scanner, "250 ", "RCPT")
	expectReply(t, scanner, "354 ", "DATA")
	io.WriteString(c, "Subject: long\r\n\r\n"+long+"\r\n.\r\n")
	expectReply(t, scanner, "250 ", "a line at the limit")
	if len(be.anonmsgs) != 1 || !strings.Contains(string(be.anonmsgs[0].Data), long+"\r\n") {
		t.Fatalf("the long line was not received whole")
	}

	io.WriteString(c, "MAIL FROM:<root@nsa.gov>\r\nRCPT TO:<root@gchq.gov.uk>\r\nDATA\r\n")
	expectReply(t, scanner, "250 ", "MAIL")
	expectReply(t, scanner, "250 ", "RCPT")
	expectReply(t, scanner, "354 ", "DATA")
	io.WriteString(c, "Subject: too long\r\n\r\n"+long+"x\r\nMAIL FROM:<x@y>\r\n.\r\n")
	expectReply(t, scanner, "554 5.6.0 ", "a line one past the limit")
	io.WriteString(c, "NOOP\r\n")
	expectReply(t, scanner, "250 ", "NOOP after the refused message")
	if len(be.anonmsgs) != 1 {
		t.Fatalf("%d messages, want the first only", len(be.anonmsgs))
	}

	io.WriteString(c, "NOOP "+strings.Repeat("y", 200)+"\r\n")
	expectReply(t, scanner, "500 5.4.0 ", "a command line over MaxLineLength")
}

// TestPostdeskDisableCHUNKING: no CHUNKING in EHLO; BDAT is refused with
// 502, its chunk is discarded rather than read as commands, and nothing is
// delivered.
func TestPostdeskDisableCHUNKING(t *testing.T) {
	be, s, c, scanner, caps := testServerEhlo(t, func(s *smtp.Server) { s.DisableCHUNKING = true })
	defer s.Close()
	defer c.Close()
	if caps["CHUNKING"] {
		t.Fatal("CHUNKING advertised")
	}
	chunk := "line1\n.\nMAIL FROM:<x@y>\rhello\r\nRCPT TO:<z@y>\r\nDATA\r\n"
	io.WriteString(c, "MAIL FROM:<root@nsa.gov>\r\nRCPT TO:<root@gchq.gov.uk>\r\n")
	expectReply(t, scanner, "250 ", "MAIL")
	expectReply(t, scanner, "250 ", "RCPT")
	io.WriteString(c, "BDAT "+itoa(len(chunk))+" LAST\r\n"+chunk+"NOOP\r\n")
	expectReply(t, scanner, "502 5.5.1 ", "BDAT")
	expectReply(t, scanner, "250 ", "NOOP right after the chunk")
	io.WriteString(c, "DATA\r\n")
	expectReply(t, scanner, "502 ", "DATA: the refused BDAT ended the transaction")
	if len(be.anonmsgs) != 0 {
		t.Fatalf("%d messages delivered", len(be.anonmsgs))
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestPostdeskCommandLineLength: with MaxCommandLineLength a command line
// up to the bound is taken, a longer one gets 500 5.5.2 and the session
// goes on; MAIL and RCPT have room for their parameters, and AUTH's
// initial response is bounded by MaxLineLength only.
func TestPostdeskCommandLineLength(t *testing.T) {
	_, s, c, scanner, _ := testServerEhlo(t, func(s *smtp.Server) {
		s.MaxLineLength = 12288
		s.MaxCommandLineLength = 512
		s.EnableDSN = true
	})
	defer s.Close()
	defer c.Close()

	// pad returns line made n octets long with its CRLF.
	pad := func(line string, n int) string {
		return line + strings.Repeat("x", n-len(line)-2) + "\r\n"
	}
	io.WriteString(c, pad("NOOP ", 512))
	expectReply(t, scanner, "250 ", "NOOP of 512 octets")
	io.WriteString(c, pad("NOOP ", 513))
	expectReply(t, scanner, "500 5.5.2 ", "NOOP of 513 octets")
	io.WriteString(c, pad("NOOP ", 2003))
	expectReply(t, scanner, "500 5.5.2 ", "NOOP of 2003 octets")
	io.WriteString(c, "NOOP\r\n")
	expectReply(t, scanner, "250 ", "NOOP after the refused lines")

	envid := " ENVID=" + strings.Repeat("e", 100)
	auth := " AUTH=" + strings.Repeat("a", 480) + "@example.org"
	io.WriteString(c, "MAIL FROM:<root@nsa.gov> SIZE=1000 BODY=8BITMIME"+envid+auth+"\r\n")
	expectReply(t, scanner, "250 ", "MAIL with long parameters")
	io.WriteString(c, pad("RCPT TO:<root@gchq.gov.uk> ORCPT=rfc822;", 512+1024))
	expectReply(t, scanner, "250 ", "RCPT at its bound")
	io.WriteString(c, pad("RCPT TO:<root@gchq.gov.uk> ORCPT=rfc822;", 512+1024+1))
	expectReply(t, scanner, "500 5.5.2 ", "RCPT past its bound")
	io.WriteString(c, "RSET\r\n")
	expectReply(t, scanner, "250 ", "RSET")

	io.WriteString(c, pad("AUTH PLAIN ", 4000))
	if !scanner.Scan() {
		t.Fatal("AUTH with a long initial response: connection closed")
	}
	if got := scanner.Text(); strings.HasPrefix(got, "500 ") {
		t.Fatalf("AUTH with a long initial response: got %q, want the mechanism's answer", got)
	}
	io.WriteString(c, "NOOP\r\n")
	expectReply(t, scanner, "250 ", "NOOP after AUTH")
}

// TestPostdeskCommandLineLengthBadCommand: a line too long that does not
// parse as a command gets 500 5.5.2 too, not 501.
func TestPostdeskCommandLineLengthBadCommand(t *testing.T) {
	_, s, c, scanner, _ := testServerEhlo(t, func(s *smtp.Server) {
		s.MaxLineLength = 12288
		s.MaxCommandLineLength = 512
	})
	defer s.Close()
	defer c.Close()

	io.WriteString(c, strings.Repeat("N", 5000)+"\r\n")
	expectReply(t, scanner, "500 5.5.2 ", "a long line of no command")
	io.WriteString(c, "NNNNN\r\n")
	expectReply(t, scanner, "501 5.5.2 ", "a short line of no command")
	io.WriteString(c, "NOOP\r\n")
	expectReply(t, scanner, "250 ", "NOOP")
}
