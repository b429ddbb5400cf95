package imapd_test

import (
	"strings"
	"testing"
)

// PREVIEW (RFC 8970): the first text part, plain text before HTML,
// transfer encoding and charset undone, white space runs made one, cut to
// 200 characters; "" for a message without text; PREVIEW (LAZY) answers
// the same. imaptest has no script for it.
func TestPreview(t *testing.T) {
	long := strings.Repeat("word ", 100)
	mbox := []itMsg{
		itMail("Subject: plain\n\nHello John,\n  see   you.\n"),
		itMail("Subject: alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n--b\n" +
			"Content-Type: text/html\n\n<html><head><title>t</title></head><body><p>In &amp; HTML</p></body></html>\n--b\n" +
			"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nK=E4se und Brot\n--b--\n"),
		itMail("Subject: html\nMIME-Version: 1.0\nContent-Type: text/html\n\n<style>p{}</style><p>Only&nbsp;<b>HTML</b></p>\n"),
		itMail("Subject: long\n\n" + long + "\n"),
		itMail("Subject: attachment\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" +
			"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n"),
	}
	itReplay(t, itScript{caps: []string{"PREVIEW"}, mbox: mbox}, func(it *itRun) {
		it.ok(1, "fetch 1 (preview)", `* 1 fetch (preview "Hello John, see you.")`)
		it.ok(1, "fetch 2 (preview)", "* 2 fetch (preview "+itLit("Käse und Brot")+")")
		it.ok(1, "fetch 3 (preview)", `* 3 fetch (preview "Only HTML")`) // &nbsp; is white space too
		it.ok(1, "fetch 4 (preview)", `* 4 fetch (preview "`+strings.TrimSpace(long[:200])+`")`)
		it.ok(1, "fetch 5 (preview)", `* 5 fetch (preview "")`)
		it.ok(1, "fetch 1 (uid preview (lazy) flags)", `* 1 fetch (uid $ preview "Hello John, see you." flags $)`)
		it.ok(1, "fetch 1 preview (lazy)", `* 1 fetch (preview "Hello John, see you.")`)
		it.bad(1, "fetch 1 (preview (eager))")
	})
}
