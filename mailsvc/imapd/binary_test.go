package imapd_test

import (
	"strings"
	"testing"
)

// append-binary (imaptest's script, its message written anew): a
// literal8 APPEND of a message whose binary part holds NUL bytes. BODY[1]
// must not carry them (no literal may); BINARY[1] gives them back as
// appended, BINARY.SIZE[1] counts them (RFC 3516).
func TestImaptestAppendBinary(t *testing.T) {
	itReplay(t, itScript{caps: []string{"BINARY"}, state: itCreated}, func(it *itRun) {
		body := "\x00-\xe4\r\n\r\n\x00x"
		msg := "From: user@domain.org\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\nMime-Version: 1.0\r\n" +
			"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n" + body
		it.ok(1, "append $mailbox ~"+itLit(msg))
		it.ok(1, "select $mailbox")
		lines := it.ok(1, "fetch 1 (body.peek[1])", "* 1 fetch (body[1] $)")
		for _, l := range lines {
			for _, tok := range l {
				if strings.ContainsRune(tok.String(), 0) {
					t.Fatalf("BODY[1] carries a NUL: %q", tok.String())
				}
			}
		}
		it.ok(1, "fetch 1 (binary.size[1] binary.peek[1])", "* 1 fetch (binary.size[1] 9 binary[1] ~"+itLit(body)+")")
		it.ok(1, "fetch 1 (binary.peek[])", "* 1 fetch (binary[] $)")

		// Without NULs, a literal8 message is stored as it came.
		plain := "Subject: x\r\nContent-Transfer-Encoding: binary\r\n\r\n\xe4\xf6\r\n"
		it.ok(1, "append $mailbox ~"+itLit(plain))
		it.ok(1, "noop")
		it.ok(1, "fetch 2 (body.peek[])", "* 2 fetch (body[] "+itLit(plain)+")")
	})
}
