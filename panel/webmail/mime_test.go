package webmail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/postdesk/postdesk/tenants/address"
)

// leafWalk is a walk over the leaves given, handed out as the store hands
// them out (Mail.Walk): parse's input without a message store. A leaf's
// body comes from body(i), counted in *n.
func leafWalk(top string, count int, header func(i int) string, body func(i int) string, n *int64) walkFunc {
	return func(visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error) {
		th, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(top + "\r\n")))
		if err != nil {
			return th, err
		}
		for i := range count {
			h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(header(i) + "\r\n")))
			if err != nil {
				return th, err
			}
			if err := visit(h, &countingReader{r: strings.NewReader(body(i)), total: n}); err != nil {
				return th, err
			}
		}
		return th, nil
	}
}

// textLeaves is a walk of n text/plain leaves of size bytes each.
func textLeaves(n, size int, read *int64) walkFunc {
	line := strings.Repeat("x", 78) + "\r\n"
	return leafWalk("Subject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n", n,
		func(int) string { return "Content-Type: text/plain\r\n" },
		func(i int) string { return "part " + itoa(i) + "\r\n" + strings.Repeat(line, size/len(line)) }, read)
}

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf": "report.pdf", "../../etc/passwd": "passwd", `C:\Users\x\a.doc`: "a.doc", "a\"b;c.txt": "a_b;c.txt",
		"\u202egpj.exe": "gpj.exe", "..": "", "  ": "", "x\r\ny.txt": "x__y.txt", strings.Repeat("é", 100) + ".txt": strings.Repeat("é", 60),
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuild(t *testing.T) {
	o := &outgoing{
		From: address.Address{Local: "ann", Domain: "a.test"}, FromName: "Änn",
		To:  []*mail.Address{{Name: "Carl", Address: "carl@a.test"}},
		Bcc: []*mail.Address{{Address: "hidden@b.test"}}, Subject: "Grüße", Text: "line one\nline two é\n",
		InReplyTo: "x@y", References: []string{"w@y", "x@y"}, Date: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Attachments: []fileData{{Name: "a b.txt", Type: "text/plain", Data: []byte("data")}},
	}
	msg, sent, err := o.buildBoth()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(msg, []byte("hidden@b.test")) || !bytes.Contains(sent, []byte("hidden@b.test")) {
		t.Errorf("Bcc: sent %v, copy %v", bytes.Contains(msg, []byte("hidden")), bytes.Contains(sent, []byte("hidden")))
	}
	// Read back with go-message's reader (webmail's own reading goes
	// through the store: cmd/postdesk's webmail tests).
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := mr.Header.Subject(); s != "Grüße" {
		t.Errorf("subject %q", s)
	}
	if f := addressLine(mr.Header, "From"); f != "Änn <ann@a.test>" {
		t.Errorf("from %q", f)
	}
	if ids, _ := mr.Header.MsgIDList("References"); len(ids) != 2 {
		t.Errorf("references %v", ids)
	}
	var text string
	var names []string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			b, _ := io.ReadAll(p.Body)
			text += string(b)
		case *mail.AttachmentHeader:
			n, _ := h.Filename()
			names = append(names, n)
		}
	}
	if text != "line one\r\nline two é\r\n" || len(names) != 1 || names[0] != "a b.txt" {
		t.Errorf("text %q attachments %v", text, names)
	}
	id1, _ := mr.Header.MessageID()
	mc, err := mail.CreateReader(bytes.NewReader(sent))
	if err != nil {
		t.Fatal(err)
	}
	if id2, _ := mc.Header.MessageID(); id1 == "" || id1 != id2 {
		t.Errorf("message ids %q %q", id1, id2)
	}
}

func TestParseRecipients(t *testing.T) {
	list, addrs, msg := parseRecipients(`"Doe, Jane" <Jane@Example.org>; bob@x.test,, Ann Ö <ann@xn--bcher-kva.test>`)
	if msg != "" || len(list) != 3 || addrs[0].String() != "jane@example.org" || list[0].Name != "Doe, Jane" || addrs[2].Domain.Unicode() != "bücher.test" {
		t.Errorf("%v %v %q", list, addrs, msg)
	}
	for _, bad := range []string{"x", "a@", "<>", "a@b@c", "a@-x.test"} {
		if _, _, msg := parseRecipients(bad); msg == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReplySubject(t *testing.T) {
	for in, want := range map[string]string{"x": "Re: x", "Re: x": "Re: x", "RE:re: x": "Re: x", "Fwd: x": "Re: Fwd: x", "": "Re: "} {
		if got := replySubject("Re:", in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestParseBounds: a message of thousands of text parts shows at most
// maxShownText of text and walks at most maxShownParts parts, and says so.
func TestParseBounds(t *testing.T) {
	ctx := t.Context()
	// 600 parts of 10 KB: more text than is shown, fewer parts.
	var read int64
	pm, err := parse(ctx, textLeaves(600, 10<<10, &read), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pm.Text) > maxShownText || len(pm.Text) < maxShownText-20<<10 || !pm.TextCut || pm.MoreParts {
		t.Errorf("600 parts: %d bytes of text (at most %d), cut %v, more parts %v", len(pm.Text), maxShownText, pm.TextCut, pm.MoreParts)
	}
	// 5,000 small parts: the walk stops after maxShownParts.
	read = 0
	pm, err = parse(ctx, textLeaves(5000, 100, &read), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pm.Leaves != maxShownParts || !pm.MoreParts || !strings.Contains(pm.Text, "part 999\r\n") || strings.Contains(pm.Text, "part 1000\r\n") {
		t.Errorf("5,000 parts: walked %d (at most %d), more parts %v", pm.Leaves, maxShownParts, pm.MoreParts)
	}
	if all := int64(5000 * 88); read > all/4 {
		t.Errorf("5,000 parts: read %d of %d bytes to show the first %d parts", read, all, maxShownParts)
	}
}

// countingReader counts the bytes read through it in *total and calls
// after once more than at have been read in all.
type countingReader struct {
	r     io.Reader
	total *int64
	at    int64
	after func()
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.total += int64(n)
	if c.after != nil && *c.total > c.at {
		c.after()
		c.after = nil
	}
	return n, err
}

// TestParseCancelled: when the request's context ends, the walk stops
// reading and returns the context's error, from parse, openPart and a
// walk that has not begun, within a leaf too.
func TestParseCancelled(t *testing.T) {
	const all = 900 * 4 << 10 // 3.7 MB, under both bounds
	var read int64
	ctx, cancel := context.WithCancel(t.Context())
	walk := leafWalk("Subject: many\r\n", 900, func(int) string { return "Content-Type: text/plain\r\n" },
		func(i int) string { return strings.Repeat("x", 4<<10) }, &read)
	cancelAt := func(at int64) walkFunc {
		read = 0
		return func(visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error) {
			return walk(func(h textproto.Header, body io.Reader) error {
				body.(*countingReader).at, body.(*countingReader).after = at, cancel
				return visit(h, body)
			})
		}
	}
	pm, err := parse(ctx, cancelAt(64<<10), parseOptions{})
	if !errors.Is(err, context.Canceled) || pm != nil {
		t.Errorf("parse: %v", err)
	}
	if read > all/2 {
		t.Errorf("parse read %d of %d bytes after the context ended at 64 KiB", read, all)
	}
	// openPart reads no leaf but its own; it stops between leaves.
	ctx, cancel = context.WithCancel(t.Context())
	visited := 0
	err = openPart(ctx, func(visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error) {
		return walk(func(h textproto.Header, body io.Reader) error {
			if visited++; visited == 100 {
				cancel()
			}
			return visit(h, body)
		})
	}, 900, func(*leaf, io.Reader) error { return nil })
	if !errors.Is(err, context.Canceled) || visited != 100 {
		t.Errorf("openPart: %v after %d leaves", err, visited)
	}
	// Within one long leaf: the 1 MiB part is not read to its end.
	ctx, cancel = context.WithCancel(t.Context())
	read = 0
	long := leafWalk("Subject: long\r\n", 1, func(int) string { return "Content-Type: application/zip\r\n" },
		func(int) string { return strings.Repeat("x", 1<<20) }, &read)
	err = openPart(ctx, func(visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error) {
		return long(func(h textproto.Header, body io.Reader) error {
			body.(*countingReader).at, body.(*countingReader).after = 64<<10, cancel
			return visit(h, body)
		})
	}, 1, func(_ *leaf, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if !errors.Is(err, context.Canceled) || read > 512<<10 {
		t.Errorf("one long part: %v after %d bytes", err, read)
	}
	if _, err := parse(ctx, walk, parseOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("parse with an ended context: %v", err)
	}
}

// TestDecodedTextBound: invalid UTF-8, which grows when replaced, is still
// cut to the bound asked for.
func TestDecodedTextBound(t *testing.T) {
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader("Content-Type: text/plain; charset=utf-8\r\n\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	text, cut := decodedText(newLeaf(1, gomessage.Header{Header: h}), strings.NewReader(strings.Repeat("\xff", 3000)), 1000)
	if len(text) > 1000 || !cut || !utf8.ValidString(text) {
		t.Errorf("%d bytes, cut %v, valid %v", len(text), cut, utf8.ValidString(text))
	}
}
