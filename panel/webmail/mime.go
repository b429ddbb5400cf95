package webmail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	// Registers the charsets go-message decodes beyond UTF-8 and ASCII.
	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Bounds of what one page holds in memory, and of the work it does: a
// message of thousands of small text parts shows its first maxShownParts
// parts and at most maxShownText of their text, built once (issue 11: 9,800
// parts took 75 CPU-seconds when each part's text was appended to a string).
const (
	maxTextPart   = 2 << 20  // one text part shown
	maxShownText  = 4 << 20  // the text parts shown, together
	maxShownParts = 1000     // leaves the read page walks
	maxInlineData = 8 << 20  // inline images of one message, as data: URLs
	maxQuoted     = 64 << 10 // text quoted in a reply
)

// leaf is one non-multipart part of a message, numbered depth-first from
// 1. A message/rfc822 part is a leaf: an attached message.
type leaf struct {
	N           int
	Type        string // lower case, e.g. "text/plain"
	Params      map[string]string
	Disposition string // lower case; "" when absent
	Filename    string // decoded; "" when absent
	ContentID   string // without angle brackets
	Header      gomessage.Header
}

// attachment reports whether a leaf is meant as a file rather than as
// the text of the message.
func (l *leaf) attachment() bool {
	if l.Disposition == "attachment" || l.Filename != "" {
		return true
	}
	return l.Type != "text/plain" && l.Type != "text/html"
}

// walkFunc walks one message's leaves: Mail.Walk for a message of the
// signed-in mailbox (handlers.walker).
type walkFunc func(visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error)

// walkMessage calls visit for every leaf of a message, numbered depth
// first from 1, with its body as stored (transfer-encoded): the parts the
// store recorded at delivery. It returns the top header; when the store's
// MIME limits are reached it stops and returns ErrMIMELimit with the
// header. When ctx ends (the browser went away) it stops reading, between
// parts and within one, and returns ctx.Err().
func walkMessage(ctx context.Context, walk walkFunc, visit func(l *leaf, body io.Reader) error) (mail.Header, error) {
	n := 0
	h, err := walk(func(h textproto.Header, body io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n++
		return visit(newLeaf(n, gomessage.Header{Header: h}), ctxReader{ctx: ctx, r: body})
	})
	top := mail.Header{Header: gomessage.Header{Header: h}}
	if cerr := ctx.Err(); cerr != nil {
		// Whatever the walk made of a read that failed, say why it did.
		return top, cerr
	}
	return top, err
}

// ctxReader fails its reads once ctx has ended, so that a walk stops
// within a long part too.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// newLeaf reads what webmail shows of a leaf from its header.
func newLeaf(n int, h gomessage.Header) *leaf {
	mt, params, err := h.ContentType()
	if err != nil || mt == "" || !strings.Contains(mt, "/") {
		mt, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	mt = strings.ToLower(mt)
	if strings.HasPrefix(mt, "multipart/") {
		// A multipart without a usable boundary: one text part.
		mt = "text/plain"
	}
	l := &leaf{N: n, Type: mt, Params: params, Header: h}
	if d, dp, err := h.ContentDisposition(); err == nil {
		l.Disposition = strings.ToLower(d)
		l.Filename = dp["filename"]
	}
	if l.Filename == "" {
		l.Filename = params["name"]
	}
	if l.Filename != "" {
		// mime.ParseMediaType has decoded RFC 2231; RFC 2047 words are
		// common in the wild too.
		if dec, err := (&mime.WordDecoder{CharsetReader: charsetReader}).DecodeHeader(l.Filename); err == nil {
			l.Filename = dec
		}
	}
	l.ContentID = strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>")
	return l
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	e, err := gomessage.New(gomessage.HeaderFromMap(map[string][]string{
		"Content-Type": {mime.FormatMediaType("text/plain", map[string]string{"charset": charset})},
	}), input)
	if err != nil {
		return nil, err
	}
	return e.Body, nil
}

// decodedText returns a text part's content as UTF-8, transfer encoding and
// charset decoded, cut at max bytes; cut says whether it was.
func decodedText(l *leaf, body io.Reader, max int) (text string, cut bool) {
	e, err := gomessage.New(l.Header, body)
	if e == nil {
		return "", false
	}
	if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
		return "", false
	}
	b, _ := io.ReadAll(io.LimitReader(e.Body, int64(max)+1))
	if len(b) > max {
		b, cut = b[:max], true
	}
	text = strings.ToValidUTF8(string(b), "\uFFFD")
	if len(text) > max {
		// U+FFFD is longer than the byte it replaces: cut again, on a
		// rune boundary, so that max holds.
		n := max
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text, cut = text[:n], true
	}
	return text, cut
}

// decodedBody returns a part's content with its transfer encoding undone
// and no charset conversion: the bytes of an attached file.
func decodedBody(l *leaf, body io.Reader) io.Reader {
	h := l.Header.Copy()
	h.SetContentType("application/octet-stream", nil)
	e, err := gomessage.New(h, body)
	if e == nil || (err != nil && !gomessage.IsUnknownEncoding(err)) {
		return body
	}
	return e.Body
}

// attachmentInfo is an attachment as the message page lists it.
type attachmentInfo struct {
	N         int
	Name      string
	Type      string
	Size      int64
	ContentID string
}

// inlineImage is an image part that HTML may reference by cid:.
type inlineImage struct {
	Type string
	Data []byte
}

// parsedMessage is what the read page and the compose form take from a
// message.
type parsedMessage struct {
	Header      mail.Header
	Text        string
	HTML        string
	TextCut     bool // a text part was longer than shown
	Attachments []attachmentInfo
	Inline      map[string]inlineImage // by Content-ID, when asked for
	Limited     bool                   // the MIME limits hid some parts
	// MoreParts: the message has more than maxShownParts leaves; the
	// walk stopped after them.
	MoreParts bool
	// Leaves is how many leaves the walk visited.
	Leaves int
}

// parseOptions says what parse keeps.
type parseOptions struct {
	inline bool // keep inline images' data
}

// errPartsShown stops a walk at maxShownParts leaves.
var errPartsShown = errors.New("parts shown")

// parse reads a message up to its first maxShownParts leaves: the first
// plain-text and HTML bodies, further inline text parts appended to the
// text (maxShownText of text in all), and every other leaf as an
// attachment with its decoded size. It returns ctx.Err() when ctx ends.
func parse(ctx context.Context, walk walkFunc, o parseOptions) (*parsedMessage, error) {
	pm := &parsedMessage{}
	var inlineBytes int
	haveText, haveHTML := false, false
	var text strings.Builder
	h, err := walkMessage(ctx, walk, func(l *leaf, body io.Reader) error {
		if l.N > maxShownParts {
			pm.MoreParts = true
			return errPartsShown
		}
		pm.Leaves = l.N
		switch {
		case !l.attachment() && l.Type == "text/plain":
			left := maxShownText - text.Len()
			if haveText {
				left -= 2
			}
			if left <= 0 {
				pm.TextCut = true
				return nil
			}
			t, cut := decodedText(l, body, min(maxTextPart, left))
			pm.TextCut = pm.TextCut || cut
			if haveText {
				text.WriteString("\n\n")
			}
			text.WriteString(t)
			haveText = true
			return nil
		case !l.attachment() && l.Type == "text/html" && !haveHTML:
			t, cut := decodedText(l, body, maxTextPart)
			pm.HTML, haveHTML = t, true
			pm.TextCut = pm.TextCut || cut
			return nil
		}
		a := attachmentInfo{N: l.N, Name: fileName(l), Type: l.Type, ContentID: l.ContentID}
		dec := decodedBody(l, body)
		if o.inline && l.ContentID != "" && inlineImageType(l.Type) && inlineBytes < maxInlineData {
			b, err := io.ReadAll(io.LimitReader(dec, int64(maxInlineData-inlineBytes)+1))
			if err != nil {
				return fmt.Errorf("read part %d: %w", l.N, err)
			}
			a.Size = int64(len(b))
			if inlineBytes+len(b) <= maxInlineData {
				if pm.Inline == nil {
					pm.Inline = map[string]inlineImage{}
				}
				pm.Inline[l.ContentID] = inlineImage{Type: l.Type, Data: b}
				inlineBytes += len(b)
			} else {
				inlineBytes = maxInlineData
			}
			n, _ := io.Copy(io.Discard, dec)
			a.Size += n
		} else {
			n, err := io.Copy(io.Discard, dec)
			if err != nil && !isDecodeError(err) {
				return fmt.Errorf("read part %d: %w", l.N, err)
			}
			a.Size = n
		}
		pm.Attachments = append(pm.Attachments, a)
		return nil
	})
	pm.Header = h
	pm.Text = text.String()
	switch {
	case errors.Is(err, ErrMIMELimit):
		pm.Limited, err = true, nil
	case errors.Is(err, errPartsShown):
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if !haveText && haveHTML {
		pm.Text = htmlToText(pm.HTML)
	}
	return pm, nil
}

// isDecodeError reports whether err comes from a malformed encoding
// rather than from reading: base64 and quoted-printable decoders fail on
// damaged input, which still counts as what it was.
func isDecodeError(err error) bool {
	var ce base64.CorruptInputError
	return errors.As(err, &ce) || strings.HasPrefix(err.Error(), "quotedprintable:")
}

// inlineImageType reports whether a type may be shown as a data: image in
// the message frame. SVG is left out: it is a document, not a picture.
func inlineImageType(t string) bool {
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp":
		return true
	}
	return false
}

// fileName is the name an attachment is listed and saved under: its own,
// made safe, or one made from its number and type.
func fileName(l *leaf) string {
	if n := safeFileName(l.Filename); n != "" {
		return n
	}
	ext := ""
	switch l.Type {
	case "message/rfc822", "message/global":
		ext = ".eml"
	case "text/plain":
		ext = ".txt"
	case "text/html":
		ext = ".html"
	default:
		if exts, _ := mime.ExtensionsByType(l.Type); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return fmt.Sprintf("part-%d%s", l.N, ext)
}

// safeFileName keeps the last path element of a name, without control
// characters, quotes or separators, and at most 120 bytes; "" if nothing
// is left.
func safeFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f || r == '"' || r == '/' || r == ':' || r == '*' || r == '?' || r == '<' || r == '>' || r == '|':
			return '_'
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			// Bidirectional overrides hide a file's real extension.
			return -1
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), ".")
	if name == "" || name == "_" {
		return ""
	}
	for len(name) > 120 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// openPart finds leaf n of a message and calls fn with it and its decoded
// content; ErrNotFound when there is no such leaf.
func openPart(ctx context.Context, walk walkFunc, n int, fn func(l *leaf, content io.Reader) error) error {
	found := false
	errStop := errors.New("stop")
	_, err := walkMessage(ctx, walk, func(l *leaf, body io.Reader) error {
		if l.N != n {
			return nil
		}
		found = true
		if err := fn(l, decodedBody(l, body)); err != nil {
			return err
		}
		return errStop
	})
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil && !errors.Is(err, ErrMIMELimit) {
		return err
	}
	if !found {
		return fmt.Errorf("part %d: %w", n, ErrNotFound)
	}
	return nil
}

// quote prefixes every line with "> ", as a reply quotes.
func quote(text string) string {
	if len(text) > maxQuoted {
		text = text[:maxQuoted] + "\n[...]"
	}
	text = strings.ToValidUTF8(strings.ReplaceAll(text, "\r\n", "\n"), "")
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.HasPrefix(line, ">") {
			b.WriteString(">" + line + "\n")
		} else {
			b.WriteString("> " + line + "\n")
		}
	}
	return b.String()
}
