package store_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"github.com/postdesk/postdesk/mailsvc/store"
)

func toCRLF(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// offsetMessages are messages whose part offsets Index records.
var offsetMessages = map[string]string{
	"plain": toCRLF("Subject: x\nContent-Type: text/plain\n\nhello\n"),
	"nested": toCRLF(`Subject: nested
Content-Type: multipart/mixed; boundary="a b"

preamble
--a b
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain

plain
--alt
Content-Type: text/html

<p>html</p>
--alt--
--a b 	
Content-Type: message/rfc822

Subject: inner
Content-Type: multipart/mixed; boundary=in

--in
Content-Type: text/plain

inner text
--in
Content-Type: application/pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--in--
--a b
Content-Type: message/rfc822

Subject: inner2

just text
--a b

no header here
--a b
Content-Type: text/plain

--a bx is not a boundary
--a b--
epilogue
`),
	"lf":               "Subject: lf\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\none\n--zz\nContent-Type: text/plain\n\ntwo\n--zz--\n",
	"empty multipart":  toCRLF("Content-Type: multipart/mixed; boundary=zz\n\n--zz--\n"),
	"no final newline": "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nx\r\n--zz--",
	"header only":      "Subject: x\r\n",
	"digest explicit": toCRLF(`Content-Type: multipart/digest; boundary=d

--d
Content-Type: message/rfc822

Subject: one
Content-Type: text/plain

1
--d--
`),
}

// unsureMessages are messages go-imap's extractor reads differently than
// Index: stored without offsets.
var unsureMessages = map[string]string{
	"digest default": toCRLF("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\n1\n--d--\n"),
	"digest inner":   toCRLF("Content-Type: multipart/digest; boundary=d\n\n--d\nContent-Type: message/rfc822\n\nSubject: one\n\n1\n--d--\n"),
	"no boundary":    toCRLF("Content-Type: multipart/mixed\n\n--zz\n\nx\n--zz--\n"),
	"bad type":       toCRLF("Content-Type: multipart/mixed; boundary\n\n--zz\n\nx\n--zz--\n"),
	"bad inner":      toCRLF("Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: message/rfc822\n\n bad: header\n\nx\n--zz--\n"),
	"bad header":     toCRLF(" starts folded\n\nbody\n"),
}

func TestIndexOffsets(t *testing.T) {
	for name, msg := range offsetMessages {
		t.Run(name, func(t *testing.T) {
			m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
			if err != nil {
				t.Fatal(err)
			}
			if !m.Structure.HasOffsets() {
				t.Fatalf("no offsets: %+v", m.Structure)
			}
			checkOffsets(t, []byte(msg), &m.Structure)
			// The offsets survive the JSON the rows keep.
			var p store.Part
			b, _ := json.Marshal(m.Structure)
			if err := json.Unmarshal(b, &p); err != nil || p.BodyEnd != int64(len(msg)) {
				t.Fatalf("JSON %s: %v", b, err)
			}
		})
	}
	for name, msg := range unsureMessages {
		t.Run(name, func(t *testing.T) {
			m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
			if err != nil {
				t.Fatal(err)
			}
			var with []string
			walkParts(&m.Structure, func(p *store.Part) {
				if p.HasOffsets() || p.HeaderStart != 0 || p.BodyStart != 0 {
					with = append(with, p.Type+"/"+p.Subtype)
				}
			})
			if len(with) > 0 {
				t.Fatalf("offsets kept in %v", with)
			}
		})
	}
	// A row indexed before offsets were recorded.
	var old store.Part
	if err := json.Unmarshal([]byte(`{"t":"multipart","s":"mixed","c":[{"t":"text","s":"plain","z":3}]}`), &old); err != nil || old.HasOffsets() || old.Children[0].HasOffsets() {
		t.Fatalf("old row: %+v %v", old, err)
	}
}

// FuzzIndexOffsets checks the offsets of whatever Index accepts against
// go-message's own reading of the message.
func FuzzIndexOffsets(f *testing.F) {
	for _, m := range offsetMessages {
		f.Add(m)
	}
	for _, m := range unsureMessages {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
		if err != nil || !m.Structure.HasOffsets() {
			return
		}
		checkOffsets(t, []byte(msg), &m.Structure)
	})
}

func walkParts(p *store.Part, fn func(*store.Part)) {
	fn(p)
	for i := range p.Children {
		walkParts(&p.Children[i], fn)
	}
}

// checkOffsets reads the message the way go-imap's section extractor does,
// with go-message's header and multipart readers, and compares every part
// it finds with the bytes between the part's offsets.
func checkOffsets(t *testing.T, msg []byte, root *store.Part) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	body, _ := io.ReadAll(br)
	if root.HeaderStart != 0 {
		t.Fatalf("message header at %d", root.HeaderStart)
	}
	compareOffsets(t, "message", msg, root, h, body)
}

func compareOffsets(t *testing.T, where string, msg []byte, p *store.Part, h textproto.Header, body []byte) {
	t.Helper()
	if p.HeaderStart > p.BodyStart || p.BodyStart > p.BodyEnd || p.BodyEnd > int64(len(msg)) {
		t.Fatalf("%s: offsets %d %d %d of %d bytes", where, p.HeaderStart, p.BodyStart, p.BodyEnd, len(msg))
	}
	if got := msg[p.BodyStart:p.BodyEnd]; !bytes.Equal(got, body) {
		t.Fatalf("%s: body %q, go-message reads %q", where, got, body)
	}
	sh, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg[p.HeaderStart:p.BodyStart])))
	if err != nil {
		t.Fatalf("%s: header at offsets: %v", where, err)
	}
	if a, b := writeHeader(sh), writeHeader(h); a != b {
		t.Fatalf("%s: header %q, go-message reads %q", where, a, b)
	}
	gh := gomessage.Header{Header: h}
	mt, params, _ := gh.ContentType()
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := textproto.NewMultipartReader(bytes.NewReader(body), params["boundary"])
		n := 0
		for i := range p.Children {
			c := &p.Children[i]
			if !c.HasOffsets() {
				break // the placeholder of a multipart without parts
			}
			cp, err := mr.NextPart()
			if err != nil {
				t.Fatalf("%s: part %d: %v", where, i+1, err)
			}
			cb, err := io.ReadAll(cp)
			if err != nil {
				t.Fatalf("%s: part %d: %v", where, i+1, err)
			}
			compareOffsets(t, fmt.Sprintf("%s.%d", where, i+1), msg, c, cp.Header, cb)
			n++
		}
		if _, err := mr.NextPart(); err == nil {
			t.Fatalf("%s: go-message reads more than %d parts", where, n)
		}
	case mt == "message/rfc822" || mt == "message/global":
		if len(p.Children) != 1 {
			t.Fatalf("%s: message/rfc822 with %d children", where, len(p.Children))
		}
		ibr := bufio.NewReader(bytes.NewReader(body))
		ih, err := textproto.ReadHeader(ibr)
		if err != nil {
			t.Fatalf("%s: inner header: %v", where, err)
		}
		ib, _ := io.ReadAll(ibr)
		c := &p.Children[0]
		if c.HeaderStart != p.BodyStart {
			t.Fatalf("%s: inner header at %d, body at %d", where, c.HeaderStart, p.BodyStart)
		}
		compareOffsets(t, where+".msg", msg, c, ih, ib)
	}
}

func writeHeader(h textproto.Header) string {
	var b strings.Builder
	textproto.WriteHeader(&b, h)
	return b.String()
}
