package imapd_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

// Replays of imaptest's FETCH scripts: fetch, fetch-body,
// fetch-body-mime, fetch-body-message-rfc822 (and -mime, -x2),
// fetch-bodystructure and the fetch-binary-mime ones.

// fetch: sequence and UID sets in any order, "*", UIDs past the last one,
// sequence numbers after an EXPUNGE, and the FULL, ALL and FAST macros.
func TestImaptestFetch(t *testing.T) {
	itReplay(t, itScript{messages: 3}, func(it *itRun) {
		all := []string{"* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)"}
		it.ok(1, "fetch 1:3 uid", all...)
		it.ok(1, "fetch 3:1 uid", all...)
		it.ok(1, "fetch 1,* uid", all[0], all[2])
		it.ok(1, "fetch * uid", all[2])
		it.ok(1, "fetch *:1 uid", all...)
		it.ok(1, "uid fetch 4:* uid", all[2])

		// Sequence numbers and UIDs no longer agree.
		it.ok(1, `store 2 flags \deleted`)
		it.ok(1, "expunge", "* 2 expunge")
		it.ok(1, "uid fetch 4:* uid", "* 2 fetch (uid $uid3)")
		it.ok(1, "uid fetch 1:* uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid3)")
		it.ok(1, "uid fetch 2 uid", "! 1 fetch (uid $uid1)", "! 2 fetch (uid $uid3)")
		it.ok(1, "uid fetch 1,* uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid3)")

		it.ok(1, "fetch 1 full",
			"* 1 fetch (flags () internaldate $intdate1 rfc822.size $size1 envelope ($!unordered) body ($!unordered))")
		it.ok(1, "fetch 1 all", "* 1 fetch (flags () internaldate $intdate1 rfc822.size $size1 envelope ($!unordered))")
		it.ok(1, "fetch 1 fast", "* 1 fetch (flags () internaldate $intdate1 rfc822.size $size1)")
	})
}

// The messages of imaptest's fetch-body.mbox, rebuilt from what the
// script expects of them.
var itFetchBodyMbox = []itMsg{
	itMail("From: User1 <user1@domain.org>\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s1\n\nbody1\n\n"),
	itMail("From: User2 <user2@domain.org>\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s2\n\nbody22\n"),
	itMail("From: User3 <user3@domain.org>\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s3\n\nbody33\n"),
	itMail("From: User4 <user4@domain.org>\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s4\n\nbody4\n"),
}

// fetch-body: header and text sections, RFC822.* items, \Seen set by
// fetching without PEEK, partial fetches, HEADER.FIELDS(.NOT).
func TestImaptestFetchBody(t *testing.T) {
	itReplay(t, itScript{mbox: itFetchBodyMbox}, func(it *itRun) {
		it.ok(1, "fetch 1 rfc822.header", "* 1 fetch (rfc822.header $hdr1)")
		it.ok(1, "fetch 1 body.peek[header]", "* 1 fetch (body[header] $hdr1)")

		it.ok(1, "fetch 1 (flags body.peek[text])", "* 1 fetch (flags () body[text] "+itLit("body1\r\n\r\n")+")")
		it.ok(1, "fetch 1 rfc822.text", "* 1 fetch (rfc822.text "+itLit("body1\r\n\r\n")+")", `* 1 fetch (flags (\seen))`)

		it.ok(1, "fetch 2 (flags body.peek[])", "* 2 fetch (flags () body[] $full2)")
		it.ok(1, "fetch 2 rfc822", "* 2 fetch (rfc822 $full2)", `* 2 fetch (flags (\seen))`)

		it.ok(1, "fetch 3 (body[])", "* 3 fetch (body[] $full3)", `* 3 fetch (flags (\seen))`)
		it.ok(1, "fetch 4 (body[header])", "* 4 fetch (body[header] $hdr4)", `* 4 fetch (flags (\seen))`)

		// Partial fetches.
		it.ok(1, "fetch 2 body.peek[text]<0.3>", `* 2 fetch (body[text]<0> "bod")`)
		it.ok(1, "fetch 2 body.peek[text]<3.3>", `* 2 fetch (body[text]<3> "y22")`)
		for _, c := range [][2]string{
			{"<0.1>", "b"}, {"<5.1>", "3"}, {"<5.2>", "3\r"}, {"<5.3>", "3\r\n"},
			{"<6.1>", "\r"}, {"<6.2>", "\r\n"}, {"<7.1>", "\n"},
		} {
			start, _ := itParsePartial(c[0])
			it.ok(1, "fetch 3 body.peek[text]"+c[0], "* 3 fetch (body[text]<"+strconv.Itoa(start)+"> "+itLit(c[1])+")")
		}

		// Header fields.
		from := "From: User1 <user1@domain.org>\r\n\r\n"
		it.ok(1, "fetch 1 body.peek[header.fields (from)]", "* 1 fetch (body[header.fields (from)] "+itLit(from)+")")
		it.ok(1, "fetch 1 (body.peek[header.fields (from)])", "* 1 fetch (body[header.fields (from)] "+itLit(from)+")")
		it.ok(1, "fetch 1 body.peek[header.fields (from subject)]",
			"* 1 fetch (body[header.fields (from subject)] "+itLit("From: User1 <user1@domain.org>\r\nSubject: s1\r\n\r\n")+")")
		it.ok(1, "fetch 1 body.peek[header.fields.not (date)]",
			"! 1 fetch (body[header.fields.not (date)] "+
				itLit("From: User1 <user1@domain.org>\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\nSubject: s1\r\n\r\n")+")")
		it.ok(1, "fetch 1 body.peek[header.fields (xyz)]", "* 1 fetch (body[header.fields (xyz)] "+itLit("\r\n")+")")
	})
}

// itMIMEMsg is the message of imaptest's fetch-body-mime and
// fetch-binary-mime scripts: a multipart/mixed with a folded boundary
// parameter, prologue and epilogue, a text part and a message/rfc822
// part that is itself multipart/alternative.
var itMIMEMsg = itMailAt("24-Mar-2007 23:00:00 +0200", `From: user@domain.org
Date: Sat, 24 Mar 2007 23:00:00 +0200
Mime-Version: 1.0
Content-Type: multipart/mixed; boundary="foo
 bar"

Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii

hello

--foo bar
Content-Type: message/rfc822

`+itMIMESub+`
--foo bar--
Root MIME epilogue
`)

const itMIMESubHeader = `From: sub@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg
Content-Type: multipart/alternative; boundary="sub1"

`

const itMIMESubText = `Sub MIME prologue
--sub1
Content-Type: text/html

<p>Hello world</p>

--sub1
Content-Type: text/plain

Hello another world

--sub1--
Sub MIME epilogue
`

const itMIMESub = itMIMESubHeader + itMIMESubText

// mimeSections are the sections of itMIMEMsg the scripts fetch, with their
// contents.
func itMIMESections() [][2]string {
	full := itMIMEMsg.text
	return [][2]string{
		{"", full},
		{"text", full[len(itCRLF("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\n"+
			"Content-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n")):]},
		{"1", "hello\r\n"},
		{"1.mime", "Content-Type: text/x-myown; charset=us-ascii\r\n\r\n"},
		{"2", itCRLF(itMIMESub)},
		{"2.mime", "Content-Type: message/rfc822\r\n\r\n"},
		{"2.header", itCRLF(itMIMESubHeader)},
		{"2.header.fields (from subject X-foo)", "From: sub@domain.org\r\nSubject: submsg\r\n\r\n"},
		{"2.header.fields.not (from subject X-foo)",
			"Date: Sun, 12 Aug 2012 12:34:56 +0300\r\nContent-Type: multipart/alternative; boundary=\"sub1\"\r\n\r\n"},
		{"2.text", itCRLF(itMIMESubText)},
		{"2.1.mime", "Content-Type: text/html\r\n\r\n"},
		{"2.1", "<p>Hello world</p>\r\n"},
		{"2.2.mime", "Content-Type: text/plain\r\n\r\n"},
		{"2.2", "Hello another world\r\n"},
	}
}

// fetch-body-mime: BODY[] sections of a nested MIME message: part
// numbers, MIME headers, and HEADER/TEXT of a message/rfc822 part.
func TestImaptestFetchBodyMIME(t *testing.T) {
	if n := len(itMIMEMsg.text); n != 602 {
		t.Fatalf("the rebuilt message has %d bytes; imaptest's has 602", n)
	}
	itReplay(t, itScript{mbox: []itMsg{itMIMEMsg}}, func(it *itRun) {
		for _, s := range itMIMESections() {
			it.ok(1, "fetch 1 (body.peek["+s[0]+"])", "* 1 fetch (body["+s[0]+"] "+itLit(s[1])+")")
		}
	})
}

// fetch-body-message-rfc822: a message whose body is a message/rfc822.
func TestImaptestFetchBodyMessageRFC822(t *testing.T) {
	sub := itCRLF("From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n\nHello world\n")
	m := itMail("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\n" +
		"Content-Type: message/rfc822\n\n" + sub)
	itReplay(t, itScript{mbox: []itMsg{m}}, func(it *itRun) {
		for _, s := range [][2]string{
			{"", m.text},
			{"text", sub},
			{"1", sub},
			{"1.header", itCRLF("From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n\n")},
			{"1.header.fields (from subject X-foo)", "From: sub@domain.org\r\nSubject: submsg\r\n\r\n"},
			{"1.header.fields.not (from subject X-foo)", "Date: Sun, 12 Aug 2012 12:34:56 +0300\r\n\r\n"},
			{"1.text", "Hello world\r\n"},
		} {
			it.ok(1, "fetch 1 (body.peek["+s[0]+"])", "* 1 fetch (body["+s[0]+"] "+itLit(s[1])+")")
		}
	})
}

// fetch-body-message-rfc822-mime: a message/rfc822 body that is a
// multipart/digest, whose parts are message/rfc822 by default (RFC 2046
// 5.1.5), one with no MIME header at all.
func TestImaptestFetchBodyMessageRFC822MIME(t *testing.T) {
	subHeader := itCRLF("From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n" +
		"Content-Type: multipart/digest; boundary=\"foo\"\n\n")
	subText := itCRLF("prologue\n\n--foo \n\nFrom: m1@example.com\nSubject: m1\n\nm1 body\n\n" +
		"--foo \nX-Mime: m2 header\n\nFrom: m2@example.com\nSubject: m2\n\nm2 body\n\n--foo--\n\nepilogue\n")
	m := itMail("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\n" +
		"Content-Type: message/rfc822\n\n" + subHeader + subText)
	itReplay(t, itScript{mbox: []itMsg{m}}, func(it *itRun) {
		for _, s := range [][2]string{
			{"", m.text},
			{"text", subHeader + subText},
			{"1", subHeader + subText},
			{"1.header", subHeader},
			{"1.text", subText},
			{"1.1", "From: m1@example.com\r\nSubject: m1\r\n\r\nm1 body\r\n"},
			{"1.1.MIME", "\r\n"},
			{"1.1.HEADER", "From: m1@example.com\r\nSubject: m1\r\n\r\n"},
			{"1.1.TEXT", "m1 body\r\n"},
			{"1.2", "From: m2@example.com\r\nSubject: m2\r\n\r\nm2 body\r\n"},
			{"1.2.MIME", "X-Mime: m2 header\r\n\r\n"},
			{"1.2.HEADER", "From: m2@example.com\r\nSubject: m2\r\n\r\n"},
			{"1.2.TEXT", "m2 body\r\n"},
		} {
			it.ok(1, "fetch 1 (body.peek["+s[0]+"])", "* 1 fetch (body["+s[0]+"] "+itLit(s[1])+")")
		}
	})
}

// fetch-body-message-rfc822-x2: a message/rfc822 inside a message/rfc822.
func TestImaptestFetchBodyMessageRFC822x2(t *testing.T) {
	inner := itCRLF("From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n\nHello world\n")
	midHeader := itCRLF("From: user2@domain.org\nDate: Fri, 23 Mar 2007 11:22:33 +0200\nMime-Version: 1.0\n" +
		"Content-Type: message/rfc822\n\n")
	m := itMail("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\n" +
		"Content-Type: message/rfc822\n\n" + midHeader + inner)
	itReplay(t, itScript{mbox: []itMsg{m}}, func(it *itRun) {
		for _, s := range [][2]string{
			{"", m.text},
			{"text", midHeader + inner},
			{"1", midHeader + inner},
			{"1.1", inner},
			{"1.header", midHeader},
			{"1.text", inner},
			{"1.1.1", "Hello world\r\n"},
			{"1.1.header", itCRLF("From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n\n")},
			{"1.1.text", "Hello world\r\n"},
		} {
			it.ok(1, "fetch 1 (body.peek["+s[0]+"])", "* 1 fetch (body["+s[0]+"] "+itLit(s[1])+")")
		}
	})
}

// fetch-bodystructure: BODY of a multipart whose boundary parameter is
// folded inside its quotes.
func TestImaptestFetchBodystructure(t *testing.T) {
	m := itMail("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n--foo bar\n" +
		"Content-Type: text/x-myown; charset=us-ascii\n\nhello\n\n--foo bar--\n")
	itReplay(t, itScript{mbox: []itMsg{m}}, func(it *itRun) {
		it.ok(1, "fetch 1:* body",
			`* 1 FETCH (BODY (("TEXT" "x-MYOWN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1) "MIXED"))`)
	})
}

// fetch-binary-mime: BINARY[] and BINARY.SIZE[] (RFC 3516) of the
// fetch-body-mime message, where nothing needs decoding.
func TestImaptestFetchBinaryMIME(t *testing.T) {
	itReplay(t, itScript{caps: []string{"BINARY"}, mbox: []itMsg{itMIMEMsg}}, func(it *itRun) {
		for _, s := range itMIMESections() {
			// The script's sections: BINARY takes part numbers only
			// (RFC 3516 4.1's section-binary).
			if strings.ContainsAny(s[0], "abcdefghijklmnopqrstuvwxyz") {
				it.bad(1, "fetch 1 (binary.peek["+s[0]+"])")
				continue
			}
			it.ok(1, "fetch 1 (binary.peek["+s[0]+"])", "* 1 fetch (binary["+s[0]+"] "+itLit(s[1])+")")
			it.ok(1, "fetch 1 (binary.size["+s[0]+"])", "* 1 fetch (binary.size["+s[0]+"] "+strconv.Itoa(len(s[1]))+")")
		}
	})
}

// fetch-binary-mime-base64: BINARY of base64 parts, whatever their line
// breaks and white space, a NUL byte in one, and partial BINARY.
func TestImaptestFetchBinaryMIMEBase64(t *testing.T) {
	bin := "abcdefg\x00hijkl\r\nmno\npqrstuvqxyz"
	b64 := base64.StdEncoding.EncodeToString
	parts := []string{
		b64([]byte("hello world")),
		"aGVs\nbG8g\nd29y\nbGQ=",
		"  " + b64([]byte("hello to you too")) + "  \n",
		b64([]byte("hello to everyone!"))[:12] + "\n" + b64([]byte("hello to everyone!"))[12:],
		b64([]byte(bin)),
	}
	text := "From: user@domain.org\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
	for _, p := range parts {
		text += "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + p + "\n"
	}
	text += "--b--\n"
	// The NUL and the lone LF of part 5 are in its base64, so CRLF
	// conversion of the message leaves them alone.
	itReplay(t, itScript{caps: []string{"BINARY"}, mbox: []itMsg{itMail(text)}}, func(it *itRun) {
		hw, lit8 := itLit("hello world"), "~"+itLit(bin)
		it.ok(1, "fetch 1 (binary.size[1] binary.size[5])", "* 1 fetch (binary.size[1] 11 binary.size[5] 30)")
		it.ok(1, "fetch 1 (binary.peek[1] binary.peek[2] binary.peek[3] binary.peek[4] binary.peek[5])",
			"* 1 fetch (binary[1] "+hw+" binary[2] "+hw+" binary[3] "+itLit("hello to you too")+
				" binary[4] "+itLit("hello to everyone!")+" binary[5] "+lit8+")")
		it.ok(1, "fetch 1 (binary.size[1] binary.peek[1])", "* 1 fetch (binary.size[1] 11 binary[1] "+hw+")")
		it.ok(1, "fetch 1 (binary.size[3] binary.peek[2])", "* 1 fetch (binary.size[3] 16 binary[2] "+hw+")")
		it.ok(1, "fetch 1 (binary.size[2] binary.size[3] binary.size[4])",
			"* 1 fetch (binary.size[2] 11 binary.size[3] 16 binary.size[4] 18)")
		for _, c := range []struct{ partial, origin, want string }{
			{"<0.7>", "<0>", bin[:7]}, {"<0.8>", "<0>", bin[:8]}, {"<0.10>", "<0>", bin[:10]},
			{"<10.10>", "<10>", bin[10:20]}, {"<5.10>", "<5>", bin[5:15]}, {"<15.100>", "<15>", bin[15:]},
		} {
			it.ok(1, "fetch 1 (binary.peek[5]"+c.partial+")", "* 1 fetch (binary[5]"+c.origin+" "+itLit(c.want)+")")
		}
	})
}

// fetch-binary-mime-qp: BINARY of a quoted-printable part: encoded tabs,
// soft line breaks, trailing white space dropped, "_" kept.
func TestImaptestFetchBinaryMIMEQP(t *testing.T) {
	decoded := "hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\nfoo b\r\nfoo\r\nbar\r\nfoo_bar\r\n"
	m := itMail("From: user@domain.org\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n" +
		"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n" +
		"hello\nbar\nfoo=09bar\nfoo=09 =09b\nfoo bar  \nfoo =\nb\nfoo\nbar\nfoo_bar\n\n--b--\n")
	itReplay(t, itScript{caps: []string{"BINARY"}, mbox: []itMsg{m}}, func(it *itRun) {
		it.ok(1, "fetch 1 (binary.size[1])", "* 1 fetch (binary.size[1] 65)")
		it.ok(1, "fetch 1 (binary.peek[1])", "* 1 fetch (binary[1] "+itLit(decoded)+")")
		for _, c := range []struct{ partial, origin string }{
			{"<0.10>", "<0>"}, {"<10.10>", "<10>"}, {"<20.10>", "<20>"}, {"<15.10>", "<15>"}, {"<40.100>", "<40>"},
		} {
			start, n := itParsePartial(c.partial)
			want := decoded[start:]
			if n >= 0 && start+n < len(decoded) {
				want = decoded[start : start+n]
			}
			it.ok(1, "fetch 1 (binary.peek[1]"+c.partial+")", "* 1 fetch (binary[1]"+c.origin+" "+itLit(want)+")")
		}
	})
}

// parsePartial reads "<start.n>" or "<start>" (n is then -1); n may
// run past the end.
func itParsePartial(p string) (start, n int) {
	a, b, ok := strings.Cut(strings.Trim(p, "<>"), ".")
	start, _ = strconv.Atoi(a)
	n = -1
	if ok {
		n, _ = strconv.Atoi(b)
	}
	return start, n
}
