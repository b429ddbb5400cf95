package smtpd_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSmuggling sends the end-of-data look-alikes of SMTP smuggling
// (SEC Consult 2023; Postfix's smtp-smuggling page): none may end DATA,
// start a second transaction or be stored; each message is refused with a
// 5xx after the real <CRLF>.<CRLF>, and the session goes on.
func TestSmuggling(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		smuggled := "MAIL FROM:<b@remote.test>\r\nRCPT TO:<john@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nsecond\r\n"
		for _, tc := range []struct{ name, body string }{
			{"LF.LF", "Subject: s\r\n\r\nfirst\n.\n" + smuggled},
			{"LF.CRLF", "Subject: s\r\n\r\nfirst\n.\r\n" + smuggled},
			{"CRLF.LF", "Subject: s\r\n\r\nfirst\r\n.\n" + smuggled},
			{"CR.CR", "Subject: s\r\n\r\nfirst\r.\r" + smuggled},
			{"CRLF.CR", "Subject: s\r\n\r\nfirst\r\n.\r" + smuggled},
			{"CRLF.CRCRLF", "Subject: s\r\n\r\nfirst\r\n.\r\r\n" + smuggled},
			{"CR.CRLF", "Subject: s\r\n\r\nfirst\r.\r\n" + smuggled},
			{"bare LF", "Subject: s\r\n\r\nline\nline\r\n"},
			{"bare CR", "Subject: s\r\n\r\nline\rline\r\n"},
			{"bare LF in header", "Subject: s\nX: y\r\n\r\nbody\r\n"},
			{"dot CR x", "Subject: s\r\n\r\nline\r\n.\rx\r\n"},
		} {
			c := dialRaw(t, e.mx)
			c.expect("EHLO client.test", 250, "")
			c.expect("MAIL FROM:<a@remote.test>", 250, "")
			c.expect("RCPT TO:<ann@example.test>", 250, "")
			c.expect("DATA", 354, "")
			c.send(tc.body + ".\r\n")
			code, text := c.read()
			if code != 554 || !strings.Contains(text, "5.6.0") {
				t.Errorf("%s: got %q, want 554 5.6.0", tc.name, text)
			}
			// The session is in command state: exactly one reply each.
			c.expect("NOOP", 250, "")
			c.expect("QUIT", 221, "")
		}
		time.Sleep(100 * time.Millisecond)
		if n := len(e.stored("ann@example.test")); n != 0 {
			t.Errorf("ann holds %d messages; smuggling attempts were stored", n)
		}
		if n := len(e.stored("john@example.test")); n != 0 {
			t.Errorf("john holds %d messages; a smuggled transaction was delivered", n)
		}
		// Pipelined: DATA and its content in one write, then QUIT.
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.send("MAIL FROM:<a@remote.test>\r\nRCPT TO:<ann@example.test>\r\nDATA\r\nSubject: p\r\n\r\nfirst\n.\n" + smuggled + ".\r\nQUIT\r\n")
		var codes []int
		for {
			code, _ := c.read()
			if code == 0 {
				break
			}
			codes = append(codes, code)
		}
		want := []int{250, 250, 354, 554, 221}
		if len(codes) != len(want) {
			t.Fatalf("pipelined smuggling: replies %v, want %v", codes, want)
		}
		for i := range want {
			if codes[i] != want[i] {
				t.Fatalf("pipelined smuggling: replies %v, want %v", codes, want)
			}
		}
		// A clean message afterwards on a fresh connection is fine.
		tcheck(t, send(e.mx, "a@remote.test", []string{"ann@example.test"}, msg("a@remote.test", "ann@example.test", "clean", "")), "clean")
		if n := len(e.stored("ann@example.test")); n != 1 {
			t.Errorf("ann holds %d, want the clean one", n)
		}
	}, nil)
}

// TestBDAT: CHUNKING is not offered, so that every message goes through
// the DATA reader that refuses bare CR and LF. A BDAT anyway is refused
// with 502 and its chunk discarded, never stored nor read as commands;
// DATA works as ever on the same connection.
func TestBDAT(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		for _, a := range []string{e.mx, e.sub} {
			c := dialRaw(t, a)
			if text := c.expect("EHLO client.test", 250, ""); strings.Contains(text, "CHUNKING") {
				t.Errorf("%s: CHUNKING offered: %s", a, text)
			}
		}
		for _, chunk := range []string{
			"Subject: s\r\n\r\nline1\n.\nMAIL FROM:<x@y>\rhello\r\n", // bare LF and CR, commands inside
			"Subject: clean\r\n\r\nclean\r\n",
		} {
			c := dialRaw(t, e.mx)
			c.expect("EHLO client.test", 250, "")
			c.expect("MAIL FROM:<a@remote.test>", 250, "")
			c.expect("RCPT TO:<ann@example.test>", 250, "")
			c.send("BDAT " + strconv.Itoa(len(chunk)) + " LAST\r\n" + chunk)
			if code, text := c.read(); code != 502 || !strings.Contains(text, "5.5.1") {
				t.Errorf("BDAT %q: %q, want 502 5.5.1", chunk, text)
			}
			c.expect("NOOP", 250, "")
			c.expect("RCPT TO:<ann@example.test>", 502, "") // BDAT ended the transaction: no MAIL
		}
		// The normal path.
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<ann@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send(msg("a@remote.test", "ann@example.test", "by DATA", "") + ".\r\n")
		if code, text := c.read(); code != 250 {
			t.Fatalf("DATA: %s", text)
		}
		got := e.stored("ann@example.test")
		if len(got) != 1 || !strings.Contains(got[0], "Hello by DATA") {
			t.Fatalf("ann holds %d messages, want the one sent by DATA", len(got))
		}
	}, nil)
}
