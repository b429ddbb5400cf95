package webmail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/tenants/address"
)

var testOpts = parseOptions{maxDepth: defaultMIMEDepth, maxParts: defaultMIMEParts}

func TestParse(t *testing.T) {
	ctx := t.Context()
	msg := "From: =?iso-8859-1?q?J=F6rg?= <j@x.test>\r\nSubject: =?utf-8?b?w5xiZXJzaWNodA==?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n" +
		"--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nfooter\r\n" +
		"--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename*=utf-8''%E2%80%AEgpj.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n"
	pm, err := parse(ctx, strings.NewReader(msg), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := pm.Header.Subject(); s != "Übersicht" {
		t.Errorf("subject %q", s)
	}
	if pm.Text != "Привет\n\nfooter" {
		t.Errorf("text %q", pm.Text)
	}
	if len(pm.Attachments) != 2 {
		t.Fatalf("attachments %+v", pm.Attachments)
	}
	if a := pm.Attachments[0]; a.Name != "gpj.exe" || a.Size != 4 || a.N != 3 {
		t.Errorf("zip %+v (the bidi override must go)", a)
	}
	if a := pm.Attachments[1]; a.Name != "part-4.eml" || a.Type != "message/rfc822" {
		t.Errorf("message %+v", a)
	}
	var got []byte
	err = openPart(ctx, strings.NewReader(msg), 3, testOpts, func(l *leaf, r io.Reader) error {
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil || string(got) != "PK\x03\x04" {
		t.Errorf("part 3: %q %v", got, err)
	}
	if err := openPart(ctx, strings.NewReader(msg), 9, testOpts, func(*leaf, io.Reader) error { return nil }); err == nil {
		t.Error("part 9 found")
	}
}

// TestParseLimits: a message nested deeper than the MIME limits is shown
// up to them, quickly, and says so.
func TestParseLimits(t *testing.T) {
	ctx := t.Context()
	var b strings.Builder
	b.WriteString("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	const depth = 5000
	for i := 0; i < depth; i++ {
		b.WriteString("--b" + itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + itoa(i+1) + "\r\n\r\n")
	}
	b.WriteString("--b" + itoa(depth) + "\r\nContent-Type: text/plain\r\n\r\ndeepest\r\n")
	start := time.Now()
	pm, err := parse(ctx, strings.NewReader(b.String()), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if !pm.Limited || strings.Contains(pm.Text, "deepest") {
		t.Errorf("limited %v text %q", pm.Limited, pm.Text)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	var many strings.Builder
	many.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < defaultMIMEParts+10; i++ {
		many.WriteString("--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n")
	}
	many.WriteString("--b--\r\n")
	pm, err = parse(ctx, strings.NewReader(many.String()), testOpts)
	if err != nil || !(pm.Limited || pm.MoreParts) || len(pm.Attachments) >= defaultMIMEParts {
		t.Errorf("many parts: %v limited %v, %d attachments", err, pm.Limited, len(pm.Attachments))
	}
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
	ctx := t.Context()
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
	pm, err := parse(ctx, bytes.NewReader(msg), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := pm.Header.Subject(); s != "Grüße" {
		t.Errorf("subject %q", s)
	}
	if f := addressLine(pm.Header, "From"); f != "Änn <ann@a.test>" {
		t.Errorf("from %q", f)
	}
	if ids, _ := pm.Header.MsgIDList("References"); len(ids) != 2 {
		t.Errorf("references %v", ids)
	}
	if pm.Text != "line one\r\nline two é\r\n" || len(pm.Attachments) != 1 || pm.Attachments[0].Name != "a b.txt" {
		t.Errorf("text %q attachments %+v", pm.Text, pm.Attachments)
	}
	id1, _ := pm.Header.MessageID()
	pc, _ := parse(ctx, bytes.NewReader(sent), testOpts)
	if id2, _ := pc.Header.MessageID(); id1 == "" || id1 != id2 {
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

// textParts is a message of n text/plain parts of size bytes each.
func textParts(n, size int) string {
	var b strings.Builder
	b.WriteString("Subject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	line := strings.Repeat("x", 78) + "\r\n"
	for i := range n {
		b.WriteString("--b\r\nContent-Type: text/plain\r\n\r\npart " + itoa(i) + "\r\n")
		for range size / len(line) {
			b.WriteString(line)
		}
	}
	b.WriteString("--b--\r\n")
	return b.String()
}

// TestParseBounds: a message of thousands of text parts shows at most
// maxShownText of text and walks at most maxShownParts parts, and says so.
func TestParseBounds(t *testing.T) {
	ctx := t.Context()
	// 600 parts of 10 KB: more text than is shown, fewer parts.
	pm, err := parse(ctx, strings.NewReader(textParts(600, 10<<10)), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if len(pm.Text) > maxShownText || len(pm.Text) < maxShownText-20<<10 || !pm.TextCut || pm.MoreParts {
		t.Errorf("600 parts: %d bytes of text (at most %d), cut %v, more parts %v", len(pm.Text), maxShownText, pm.TextCut, pm.MoreParts)
	}
	// 5,000 small parts: the walk stops after maxShownParts.
	msg := textParts(5000, 100)
	r := &countingReader{r: strings.NewReader(msg)}
	pm, err = parse(ctx, r, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Leaves != maxShownParts || !pm.MoreParts || !strings.Contains(pm.Text, "part 999\r\n") || strings.Contains(pm.Text, "part 1000\r\n") {
		t.Errorf("5,000 parts: walked %d (at most %d), more parts %v", pm.Leaves, maxShownParts, pm.MoreParts)
	}
	if r.n > int64(len(msg))/4 {
		t.Errorf("5,000 parts: read %d of %d bytes to show the first %d parts", r.n, len(msg), maxShownParts)
	}
}

// countingReader counts the bytes read through it and calls after once
// more than at have been read.
type countingReader struct {
	r     io.Reader
	n     int64
	at    int64
	after func()
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.after != nil && c.n > c.at {
		c.after()
		c.after = nil
	}
	return n, err
}

// TestParseCancelled: when the request's context ends, the walk stops
// reading and returns the context's error, from parse, openPart and a
// walk that has not begun.
func TestParseCancelled(t *testing.T) {
	msg := textParts(900, 4<<10) // 3.7 MB, under both bounds
	ctx, cancel := context.WithCancel(t.Context())
	r := &countingReader{r: strings.NewReader(msg), at: 64 << 10, after: cancel}
	pm, err := parse(ctx, r, testOpts)
	if !errors.Is(err, context.Canceled) || pm != nil {
		t.Errorf("parse: %v", err)
	}
	if r.n > int64(len(msg))/2 {
		t.Errorf("parse read %d of %d bytes after the context ended at 64 KiB", r.n, len(msg))
	}
	ctx, cancel = context.WithCancel(t.Context())
	r = &countingReader{r: strings.NewReader(msg), at: 64 << 10, after: cancel}
	err = openPart(ctx, r, 900, testOpts, func(*leaf, io.Reader) error { return nil })
	if !errors.Is(err, context.Canceled) || r.n > int64(len(msg))/2 {
		t.Errorf("openPart: %v after %d of %d bytes", err, r.n, len(msg))
	}
	if _, err := parse(ctx, strings.NewReader(msg), testOpts); !errors.Is(err, context.Canceled) {
		t.Errorf("parse with an ended context: %v", err)
	}
}

// TestDecodedTextBound: invalid UTF-8, which grows when replaced, is still
// cut to the bound asked for.
func TestDecodedTextBound(t *testing.T) {
	msg := "Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("\xff", 3000)
	_, err := walkMessage(t.Context(), strings.NewReader(msg), 10, 10, func(l *leaf, body io.Reader) error {
		text, cut := decodedText(l, body, 1000)
		if len(text) > 1000 || !cut || !utf8.ValidString(text) {
			t.Errorf("%d bytes, cut %v, valid %v", len(text), cut, utf8.ValidString(text))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
