package imapd_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func toCRLF(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const testPrefix = "Return-Path: <ann@example.test>\r\nDelivered-To: john@example.test\r\n"

// sectionMessage is a message FETCH cuts parts out of; streamed says
// whether Index records its part offsets (false: go-imap's extractor
// could read it differently, and FETCH falls back to it).
type sectionMessage struct {
	name     string
	msg      string
	streamed bool
}

func sectionMessages() []sectionMessage {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	// Spaces and tabs in base64, which go-message takes for line breaks.
	single := "a single part in base64, over more than one line"
	var big strings.Builder
	for i := 0; big.Len() < 70<<10; i++ {
		fmt.Fprintf(&big, "X-Filler-%d: %s\n", i, strings.Repeat("f", 60))
	}
	return []sectionMessage{
		{"plain", toCRLF(`From: Ann <ann@example.test>
Subject: plain
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

K=C3=A4se und Brot, a long line that is =
broken softly.
`), true},
		{"mixed", toCRLF(`From: Ann <ann@example.test>
Subject: mixed
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=zz

This is a preamble.
--zz
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe
--zz
Content-Type: text/html; charset=us-ascii
Content-Transfer-Encoding: base64

` + b64("<p>hello, world</p>") + `
--zz
Content-Type: application/octet-stream
Content-Disposition: attachment; filename=a.bin
Content-Transfer-Encoding: base64

` + b64(strings.Repeat("\x00\x01\xfe\xff", 40)) + `
--zz--
This is an epilogue.
`), true},
		{"nested", toCRLF(`From: Ann <ann@example.test>
Subject: nested
Content-Type: multipart/mixed; boundary="outer b"

--outer b
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain

plain text
--alt
Content-Type: multipart/related; boundary=rel

--rel
Content-Type: text/html

<img src="cid:x">
--rel
Content-Type: image/png
Content-ID: <x>
Content-Transfer-Encoding: base64

` + b64("\x89PNG fake image") + `
--rel--
--alt--
--outer b
Content-Type: message/rfc822

From: Bob <bob@example.test>
Subject: forwarded
Content-Type: multipart/mixed; boundary=in

--in
Content-Type: text/plain

inner text
--in
Content-Type: application/pdf
Content-Transfer-Encoding: base64

` + b64("%PDF-1.4 fake") + `
--in--
--outer b
Content-Type: message/rfc822

Subject: simple inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9
--outer b
Content-Type: message/global

Subject: global

global body
--outer b
Content-Type: text/plain

--outer b--
`), true},
		{"bare LF", "From: ann@example.test\nSubject: lf\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\none=3D1\n--zz\nContent-Type: message/rfc822\n\nSubject: inner lf\n\ninner\n--zz--\n", true},
		{"single base64", toCRLF(`Subject: single
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

` + b64(single)[:8] + " \t" + b64(single)[8:40] + "\n" + b64(single)[40:] + `
`), true},
		{"message/rfc822 on top", toCRLF(`Subject: wrapper
Content-Type: message/rfc822

Subject: wrapped
Content-Type: multipart/mixed; boundary=w

--w
Content-Type: text/plain

one
--w
Content-Type: text/plain

two
--w--
`), true},
		{"padding and odd parts", toCRLF("Subject: odd\nContent-Type: multipart/mixed; boundary=zz\n\n--zz \t\n\nno header\n--zz\nContent-Type: text/plain\n\n--zzx is body\n--zz\nContent-Type: text/plain\n\n--zz-- \n"), true},
		{"no parts", toCRLF("Subject: none\nContent-Type: multipart/mixed; boundary=zz\n\n--zz--\n"), true},
		{"header only", "Subject: just a header\r\n", true},
		{"odd headers", toCRLF(`Subject: odd headers
Content-Type: multipart/mixed; boundary=zz

--zz
Content-Type: text/plain;
	charset=us-ascii
Subject : spaced name
: no name
X-Folded: one
  two

body
--zz--
`), true},
		{"digest explicit", toCRLF(`Subject: digest
Content-Type: multipart/digest; boundary=d

--d
Content-Type: message/rfc822

Subject: one
Content-Type: text/plain

1
--d
Content-Type: message/rfc822

Subject: two
Content-Type: text/plain

2
--d--
`), true},
		{"big headers", toCRLF("Subject: big header\n" + big.String() + "Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nsmall\n--zz\n" + big.String() + "Content-Type: text/plain\n\nbehind a big header\n--zz--\n"), true},
		{"charsets and encodings", toCRLF(`Subject: latin1
Content-Type: multipart/mixed; boundary=zz

--zz
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

K=E4se
--zz
Content-Type: application/octet-stream
Content-Transfer-Encoding: x-uuencode

begin 644 x
--zz
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

not!!base64@@
--zz--
`), true},
		{"digest default type", toCRLF("Subject: digest\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\n1\n--d--\n"), false},
		{"multipart without boundary", toCRLF("Subject: nb\nContent-Type: multipart/mixed\n\n--zz\n\nx\n--zz--\n"), false},
		{"unreadable inner header", toCRLF("Subject: bad\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: message/rfc822\n\n bad: header\nSubject: x\n\nx\n--zz--\n"), false},
	}
}

// TestFetchPartSections compares, over a connection, what FETCH answers
// for part sections (BODY[n...], BINARY[n], BINARY.SIZE[n], partial
// ranges, parts that are not there) with what go-imap's extractor makes
// of the same message, and with RFC 9051 where that extractor errs
// (BINARY of an unknown transfer encoding or a charset other than UTF-8).
// Each message is stored twice: once as indexed now, once with the part
// offsets taken out of its row, as rows indexed before them are.
func TestFetchPartSections(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		msgs := sectionMessages()
		for _, legacy := range []bool{false, true} {
			for _, sm := range msgs {
				uid := e.deliverPrefixed(e.john, sm.msg, testPrefix)
				if legacy {
					e.stripOffsets(uid)
				}
				if got := e.hasOffsets(uid); got != (sm.streamed && !legacy) {
					t.Fatalf("%s (legacy %v): stored with offsets %v", sm.name, legacy, got)
				}
			}
		}
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		n := 0
		for i := range 2 * len(msgs) {
			sm, legacy := msgs[i%len(msgs)], i >= len(msgs)
			full := []byte(testPrefix + sm.msg)
			var cases []sectionCase
			for _, p := range sectionPaths(t, sm.msg) {
				cases = append(cases, bodyCases(full, len(testPrefix), p)...)
				cases = append(cases, binaryCases(full, p, sm.streamed && !legacy)...)
			}
			for j, c := range cases {
				// One command per section, pipelined in batches.
				if j%64 == 0 {
					var cmds strings.Builder
					for k := j; k < min(j+64, len(cases)); k++ {
						fmt.Fprintf(&cmds, "t%d FETCH %d (%s)\r\n", k, i+1, cases[k].item)
					}
					r.send(cmds.String())
				}
				resps, done := readResponses(r, fmt.Sprintf("t%d", j), true)
				what := fmt.Sprintf("%s (legacy %v): FETCH %s", sm.name, legacy, c.item)
				if c.no != "" {
					if !strings.Contains(done, "NO ["+string(c.no)+"]") {
						t.Fatalf("%s: %q, want NO [%s]", what, done, c.no)
					}
					continue
				}
				if !strings.Contains(done, "OK") || len(resps) != 1 {
					t.Fatalf("%s: %q, %d responses", what, done, len(resps))
				}
				got := resps[0]
				if c.size >= 0 {
					if !strings.Contains(got.text, fmt.Sprintf("] %d)", c.size)) {
						t.Fatalf("%s: %q, want size %d", what, got.text, c.size)
					}
					continue
				}
				if len(got.lits) != 1 || !bytes.Equal(got.lits[0], c.want) {
					t.Fatalf("%s:\n got %q\nwant %q", what, got.lits, c.want)
				}
				n++
			}
		}
		t.Logf("%d sections compared", n)
	})
}

type sectionCase struct {
	item string
	want []byte
	size int64             // for BINARY.SIZE; -1 otherwise
	no   imap.ResponseCode // the NO response code expected instead
}

// sectionPaths lists the part numbers the message has (walked from its
// stored structure) and, below and beside each, some it does not have.
func sectionPaths(t *testing.T, msg string) [][]int {
	m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	var out [][]int
	add := func(p ...int) { out = append(out, p) }
	var walk func(p *store.Part, path []int)
	walk = func(p *store.Part, path []int) {
		switch {
		case p.Type == "multipart":
			for i := range p.Children {
				c := append(append([]int{}, path...), i+1)
				add(c...)
				walk(&p.Children[i], c)
			}
			add(append(append([]int{}, path...), len(p.Children)+1)...)
		case len(p.Children) == 1: // message/rfc822
			inner := &p.Children[0]
			if inner.Type != "multipart" {
				add(append(append([]int{}, path...), 1)...)
			}
			walk(inner, path)
		}
		add(append(append([]int{}, path...), 1, 1)...)
		add(append(append([]int{}, path...), 2)...)
	}
	add()
	add(1)
	walk(&m.Structure, nil)
	add(9, 1)
	return out
}

func partString(p []int) string {
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// bodyCases are BODY[...] sections of one part, compared with go-imap's
// ExtractBodySection; for the whole message, BODY[] and BODY[HEADER] are
// compared with its bytes as stored (go-imap writes the header again).
func bodyCases(full []byte, prefix int, path []int) []sectionCase {
	var out []sectionCase
	add := func(bs *imap.FetchItemBodySection, item string, want []byte) {
		out = append(out, sectionCase{item: item, want: want, size: -1})
		if bs.Specifier == imap.PartSpecifierHeader && (len(bs.HeaderFields) > 0 || len(bs.HeaderFieldsNot) > 0) {
			return
		}
		l := int64(len(want))
		for _, p := range []imap.SectionPartial{{Offset: 0, Size: 1}, {Offset: 3, Size: 7}, {Offset: max(l-1, 0), Size: 5}, {Offset: l, Size: 5}, {Offset: l + 10, Size: 5}} {
			pb := *bs
			pb.Partial = &p
			w := want
			if p.Offset >= l {
				w = nil
			} else {
				w = w[p.Offset:min(l, p.Offset+p.Size)]
			}
			out = append(out, sectionCase{item: fmt.Sprintf("%s<%d.%d>", item, p.Offset, p.Size), want: w, size: -1})
		}
	}
	ps := partString(path)
	if len(path) == 0 {
		add(&imap.FetchItemBodySection{}, "BODY.PEEK[]", full)
		hl := len(full)
		for _, sep := range []string{"\r\n\r\n", "\n\n"} {
			if i := bytes.Index(full[prefix-2:], []byte(sep)); i >= 0 {
				hl = min(hl, prefix-2+i+len(sep))
			}
		}
		add(&imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader}, "BODY.PEEK[HEADER]", full[:hl])
		bs := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText}
		add(bs, "BODY.PEEK[TEXT]", imapserver.ExtractBodySection(bytes.NewReader(full), bs))
		return out
	}
	specs := []struct {
		bs   imap.FetchItemBodySection
		name string
	}{
		{imap.FetchItemBodySection{}, ""},
		{imap.FetchItemBodySection{Specifier: imap.PartSpecifierMIME}, ".MIME"},
		{imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader}, ".HEADER"},
		{imap.FetchItemBodySection{Specifier: imap.PartSpecifierText}, ".TEXT"},
		{imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"subject", "Content-Type", "X-FOLDED"}}, ".HEADER.FIELDS (subject Content-Type X-FOLDED)"},
		{imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFieldsNot: []string{"content-type", "Subject"}}, ".HEADER.FIELDS.NOT (content-type Subject)"},
	}
	for _, s := range specs {
		bs := s.bs
		bs.Part = path
		add(&bs, "BODY.PEEK["+ps+s.name+"]", imapserver.ExtractBodySection(bytes.NewReader(full), &bs))
	}
	return out
}

// binaryCases are BINARY[...] and BINARY.SIZE[...] of one part. As
// streamed, they follow RFC 9051 6.4.5 where go-imap's extractor does not:
// an unknown transfer encoding is NO [UNKNOWN-CTE] (go-imap: the empty
// string), and only the transfer encoding is undone, whatever the charset
// (go-imap converts to UTF-8 if go-message knows the charset, else answers
// the empty string). Elsewhere the extractor's answer is the reference.
func binaryCases(full []byte, path []int, streamed bool) []sectionCase {
	ps := partString(path)
	want := imapserver.ExtractBinarySection(bytes.NewReader(full), &imap.FetchItemBinarySection{Part: path})
	var no imap.ResponseCode
	if streamed {
		want, no = rfcBinary(full, path, want)
	}
	out := []sectionCase{
		{item: "BINARY.PEEK[" + ps + "]", want: want, size: -1, no: no},
		{item: "BINARY.SIZE[" + ps + "]", size: int64(len(want)), no: no},
	}
	l := int64(len(want))
	for _, p := range []imap.SectionPartial{{Offset: 2, Size: 9}, {Offset: max(l-2, 0), Size: 10}, {Offset: l, Size: 3}} {
		w := []byte(nil)
		if p.Offset < l {
			w = want[p.Offset:min(l, p.Offset+p.Size)]
		}
		out = append(out, sectionCase{item: fmt.Sprintf("BINARY.PEEK[%s]<%d.%d>", ps, p.Offset, p.Size), want: w, size: -1, no: no})
	}
	return out
}

// rfcBinary corrects go-imap's BINARY answer where it departs from the
// RFC: it finds the part go-imap finds (its MIME header, through
// BODY[n.MIME]) and undoes the transfer encoding of its body (BODY[n]).
func rfcBinary(full []byte, path []int, extracted []byte) ([]byte, imap.ResponseCode) {
	var hb, body []byte
	if len(path) == 0 {
		hb = imapserver.ExtractBodySection(bytes.NewReader(full), &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader})
		body = imapserver.ExtractBodySection(bytes.NewReader(full), &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText})
	} else {
		hb = imapserver.ExtractBodySection(bytes.NewReader(full), &imap.FetchItemBodySection{Part: path, Specifier: imap.PartSpecifierMIME})
		body = imapserver.ExtractBodySection(bytes.NewReader(full), &imap.FetchItemBodySection{Part: path})
	}
	if hb == nil {
		return extracted, "" // no such part
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(hb)))
	if err != nil {
		return extracted, ""
	}
	gh := gomessage.Header{Header: h}
	mt, params, _ := gh.ContentType()
	if strings.HasPrefix(mt, "multipart/") {
		return extracted, ""
	}
	var dec io.Reader = bytes.NewReader(body)
	switch enc := strings.ToLower(h.Get("Content-Transfer-Encoding")); enc {
	case "quoted-printable":
		dec = quotedprintable.NewReader(dec)
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' {
				return '\n'
			}
			return r
		}, body)))
	case "", "7bit", "8bit", "binary":
	default:
		return nil, imap.ResponseCodeUnknownCTE
	}
	if cs := strings.ToLower(params["charset"]); !strings.HasPrefix(mt, "text/") || cs == "" || cs == "utf-8" || cs == "us-ascii" {
		return extracted, ""
	}
	b, err := io.ReadAll(dec)
	if err != nil {
		return nil, ""
	}
	if len(path) == 0 {
		return append(hb, b...), ""
	}
	return b, ""
}

// fetched is one untagged response: its text, literals left out, and its
// literals.
type fetched struct {
	text string
	lits [][]byte
}

// readResponses reads the responses to a command up to its tagged one;
// without keep, literals are read and thrown away as they come.
func readResponses(r *raw, tag string, keep bool) ([]fetched, string) {
	r.t.Helper()
	var out []fetched
	cont := false
	for {
		l := r.line()
		if !cont {
			if strings.HasPrefix(l, tag+" ") {
				return out, l
			}
			out = append(out, fetched{})
		}
		cur := &out[len(out)-1]
		cur.text += l
		cont = false
		if i := strings.LastIndexByte(l, '{'); i >= 0 && strings.HasSuffix(l, "}") {
			n, err := strconv.ParseInt(l[i+1:len(l)-1], 10, 64)
			if err != nil {
				r.t.Fatalf("literal in %q", l)
			}
			if keep {
				b := make([]byte, n)
				_, err = io.ReadFull(r.r, b)
				cur.lits = append(cur.lits, b)
			} else {
				_, err = io.CopyN(io.Discard, r.r, n)
			}
			if err != nil {
				r.t.Fatalf("read literal: %v", err)
			}
			cont = true // the response goes on after the literal
		}
	}
}

// deliverPrefixed stores a message for a mailbox with a recipient prefix.
func (e *env) deliverPrefixed(mailbox int64, msg, prefix string) uint32 {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.st.Blobs().Create(ctx)
	tcheck(e.t, err, "create blob")
	io.WriteString(p, msg)
	res, err := e.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: mailbox, Prefix: prefix}}})
	tcheck(e.t, err, "deliver")
	tcheck(e.t, res.Errs[0], "deliver to mailbox")
	return res.UIDs[0]
}

func (e *env) blobOf(uid uint32) *store.BlobRow {
	e.t.Helper()
	ctx := context.Background()
	var keys []string
	err := e.db.Read(ctx).Table("mail_messages").Where("mailbox_id = ? AND uid = ?", e.john, uid).Pluck("blob_key", &keys)
	if err.Error != nil || len(keys) != 1 {
		e.t.Fatalf("blob of %d: %v %v", uid, keys, err.Error)
	}
	b, err2 := e.st.Blob(ctx, keys[0])
	tcheck(e.t, err2, "read blob row")
	return b
}

func (e *env) hasOffsets(uid uint32) bool {
	var p store.Part
	tcheck(e.t, json.Unmarshal([]byte(e.blobOf(uid).Structure), &p), "stored structure")
	return p.HasOffsets()
}

// stripOffsets makes a message's row one indexed before part offsets were
// recorded.
func (e *env) stripOffsets(uid uint32) {
	e.t.Helper()
	b := e.blobOf(uid)
	var p store.Part
	tcheck(e.t, json.Unmarshal([]byte(b.Structure), &p), "stored structure")
	var clear func(p *store.Part)
	clear = func(p *store.Part) {
		p.HeaderStart, p.BodyStart, p.BodyEnd = 0, 0, 0
		for i := range p.Children {
			clear(&p.Children[i])
		}
	}
	clear(&p)
	js, err := json.Marshal(p)
	tcheck(e.t, err, "marshal structure")
	err = e.db.Write(context.Background(), func(tx *gorm.DB) error {
		return tx.Exec("UPDATE mail_blobs SET structure = ? WHERE blob_key = ?", string(js), b.BlobKey).Error
	})
	tcheck(e.t, err, "update structure")
}

// TestFetchChunks: a FETCH over more messages than one chunk answers each
// exactly once, in order, and marks them all \Seen.
func TestFetchChunks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		const n = 1234
		fillFolder(t, e, n)
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		r.send("f FETCH 1:* (UID FLAGS BODY[HEADER.FIELDS (X-Seq)])\r\n")
		resps, done := readResponses(r, "f", true)
		if !strings.HasPrefix(done, "f OK") {
			t.Fatalf("fetch: %q", done)
		}
		// Besides the responses asked for, the session may tell of the
		// \Seen it set as flag updates (FETCH (UID n FLAGS (...))).
		var got []fetched
		for _, f := range resps {
			if strings.Contains(f.text, " BODY[") {
				got = append(got, f)
			} else if !strings.Contains(f.text, " FLAGS (") {
				t.Fatalf("unexpected response %q", f.text)
			}
		}
		if len(got) != n {
			t.Fatalf("%d responses for %d messages", len(got), n)
		}
		for i, f := range got {
			want := fmt.Sprintf("* %d FETCH (UID %d FLAGS (", i+1, i+1)
			if !strings.HasPrefix(f.text, want) || !strings.Contains(f.text, `\Seen`) ||
				len(f.lits) != 1 || string(f.lits[0]) != fmt.Sprintf("X-Seq: %d\r\n\r\n", i+1) {
				t.Fatalf("response %d: %q %q", i+1, f.text, f.lits)
			}
		}
		// \Seen was stored for every chunk.
		lines := r.expect("g", "SEARCH UNSEEN", "OK")
		if len(lines) != 1 || lines[0] != "* SEARCH" {
			t.Fatalf("unseen after FETCH: %q", lines)
		}
		// A set with gaps across chunk borders.
		r.send("u UID FETCH 2,499:502,1000:1001,1234,5000 (UID)\r\n")
		resps, _ = readResponses(r, "u", true)
		var uids []string
		for _, f := range resps {
			uids = append(uids, f.text)
		}
		want := []string{"* 2 FETCH (UID 2)", "* 499 FETCH (UID 499)", "* 500 FETCH (UID 500)", "* 501 FETCH (UID 501)",
			"* 502 FETCH (UID 502)", "* 1000 FETCH (UID 1000)", "* 1001 FETCH (UID 1001)", "* 1234 FETCH (UID 1234)"}
		if strings.Join(uids, "|") != strings.Join(want, "|") {
			t.Fatalf("UID FETCH: %q", uids)
		}
	})
}

// bigAttachment is a message whose second part is an attachment of n
// bytes, base64-encoded.
func bigAttachment(n int) string {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.Grow(len(enc) + len(enc)/38 + 1000)
	b.WriteString(toCRLF("From: ann@example.test\nSubject: big\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nsee attachment\n--zz\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--zz--\r\n")
	return b.String()
}

// fetchAlloc returns the bytes the process allocated while a FETCH was
// answered (server and this client, whose literals are thrown away as they
// come) and the literal bytes it carried.
func fetchAlloc(tb testing.TB, r *raw, cmd string) (uint64, int64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r.send("a " + cmd + "\r\n")
	resps, done := readResponses(r, "a", false)
	runtime.ReadMemStats(&after)
	if !strings.HasPrefix(done, "a OK") || len(resps) != 1 {
		tb.Fatalf("%s: %q %q", cmd, done, resps)
	}
	var lit int64
	if i := strings.LastIndexByte(resps[0].text, '{'); i >= 0 {
		lit, _ = strconv.ParseInt(strings.TrimSuffix(resps[0].text[i+1:], "})"), 10, 64)
	}
	return after.TotalAlloc - before.TotalAlloc, lit
}

// TestFetchLargePartMemory: cutting a part, or its decoded size, out of a
// message with a 15 MiB attachment (20 MiB as stored) no longer allocates
// anything like the message's size. The part is asked for in a small
// partial range, so that what the connection layers allocate for the bytes
// sent does not count. SQLite only: the database plays no part.
func TestFetchLargePartMemory(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	msg := bigAttachment(15 << 20)
	e.deliver(e.john, "", msg)
	r := e.raw(true)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
	for _, cmd := range []string{"FETCH 1 BODY.PEEK[2]<0.4096>", "FETCH 1 BINARY.PEEK[2]<1000.4096>", "FETCH 1 BINARY.SIZE[2]", "FETCH 1 BODY.PEEK[2.MIME]"} {
		fetchAlloc(t, r, cmd) // warm up
		alloc, _ := fetchAlloc(t, r, cmd)
		t.Logf("%s: %d bytes allocated (message %d bytes)", cmd, alloc, len(msg))
		if alloc > uint64(len(msg)/16) {
			t.Fatalf("%s allocated %d bytes for a %d-byte message", cmd, alloc, len(msg))
		}
	}
}

// BenchmarkFetchLargePart reports the bytes allocated per FETCH of the
// attachment of a message with a 15 MiB attachment (about 20 MiB stored),
// as streamed and, for rows indexed before part offsets were recorded, as
// extracted by go-imap; whole and in a 4 KiB partial range.
func BenchmarkFetchLargePart(b *testing.B) {
	e := newEnv(b, tenantstest.Open(b, database.SQLite), nil)
	msg := bigAttachment(15 << 20)
	e.deliver(e.john, "", msg)
	e.deliver(e.john, "", msg)
	e.stripOffsets(2)
	r := e.raw(true)
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
	for _, row := range []struct{ name, seq string }{{"offsets", "1"}, {"legacy", "2"}} {
		for _, item := range []string{"BODY.PEEK[2]", "BODY.PEEK[2]<0.4096>", "BINARY.PEEK[2]", "BINARY.SIZE[2]", "BODY.PEEK[]"} {
			b.Run(row.name+"/"+item, func(b *testing.B) {
				var total uint64
				var lit int64
				for b.Loop() {
					a, l := fetchAlloc(b, r, "FETCH "+row.seq+" "+item)
					total += a
					lit = l
				}
				b.ReportMetric(float64(total)/float64(b.N), "alloc-B/fetch")
				b.ReportMetric(float64(lit), "literal-B")
			})
		}
	}
}
