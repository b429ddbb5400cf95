package imapd

import (
	"errors"
	"html"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// PREVIEW (RFC 8970): the start of a message's first text part, plain
// text preferred over HTML, decoded, its markup and white space runs
// dropped, at most maxPreview characters. At most previewRead decoded
// bytes of the part are read, so a preview costs the same whatever the
// message's size.
const (
	maxPreview  = 200 // RFC 8970 3: no more than 256
	previewRead = 16 << 10
)

// preview makes a message's preview; "" if it has no text part.
func (f *fetchMsg) preview() (string, error) {
	tree, err := f.sections()
	if err != nil || tree == nil {
		return "", err
	}
	path, p := textPart(tree, nil, "plain")
	if p == nil {
		path, p = textPart(tree, nil, "html")
	}
	if p == nil {
		return "", nil
	}
	if len(path) == 0 {
		path = []int{1}
	}
	b, ok, err := f.binary(path)
	if errors.Is(err, errUnknownCTE) {
		return "", nil
	}
	if err != nil || !ok || b == nil {
		return "", err
	}
	var r io.Reader = io.LimitReader(b.open(), previewRead)
	if cs := p.Params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		if cr, err := charset.Reader(cs, r); err == nil {
			r = cr
		}
	}
	raw, err := io.ReadAll(r)
	if b.readErr != nil {
		return "", b.readErr
	}
	_ = err // a body that does not decode previews as far as it went
	text := strings.ToValidUTF8(string(raw), "")
	if p.Subtype == "html" {
		text = htmlText(text)
	}
	return previewText(text), nil
}

// textPart finds the first text/<subtype> part that is not an attachment,
// depth first; its path in section numbers.
func textPart(p *store.Part, path []int, subtype string) ([]int, *store.Part) {
	switch {
	case p.Type == "multipart":
		for i := range p.Children {
			if q, found := textPart(&p.Children[i], append(path[:len(path):len(path)], i+1), subtype); found != nil {
				return q, found
			}
		}
	case p.Type == "text" && p.Subtype == subtype && !strings.EqualFold(p.Disposition, "attachment"):
		return path, p
	}
	return nil, nil
}

var (
	htmlDrop = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)\s*>`)
	htmlTag  = regexp.MustCompile(`(?s)<[^>]*>`)
)

// htmlText is an HTML body's text, near enough for a preview.
func htmlText(s string) string {
	s = htmlDrop.ReplaceAllString(s, " ")
	s = htmlTag.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}

// previewText makes white space runs one space and cuts the text to
// maxPreview characters.
func previewText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxPreview {
		return s
	}
	n := 0
	for i := range s {
		if n == maxPreview {
			return strings.TrimRight(s[:i], " ")
		}
		n++
	}
	return s
}
