package webmail

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/url"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/microcosm-cc/bluemonday/css"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTML mail is made safe twice, as mox's webmail does: bluemonday keeps
// only an allowlist of elements, attributes, URL schemes and CSS
// properties (no scripts, event handlers, forms, frames, objects, SVG,
// style sheets, javascript: or relative URLs; CSS values with url(),
// expression(), @import or escapes are dropped), and the result is shown
// in a sandboxed frame without scripts whose own Content-Security-Policy
// loads nothing but inline styles and data: images, remote images only
// after the user asked for them (messageHTML).

// newPolicy builds the sanitiser's allowlist. A Policy is safe for
// concurrent use once built.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowElements("center", "font", "span", "div", "u", "s", "small", "big", "section", "article", "header", "footer")
	p.AllowAttrs("color", "face", "size").OnElements("font")
	p.AllowAttrs("align", "valign", "width", "height", "bgcolor", "border", "cellpadding", "cellspacing").
		OnElements("table", "tr", "td", "th", "tbody", "thead", "tfoot", "col", "colgroup", "div", "p", "img", "center", "hr")
	p.AllowAttrs("dir", "lang").Globally()
	for _, prop := range cssProperties {
		grammar := css.GetDefaultHandler(prop)
		p.AllowStyles(prop).MatchingHandler(func(v string) bool { return safeCSS(v) && grammar(v) }).Globally()
	}
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowRelativeURLs(false)
	p.RequireParseableURLs(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	// Content of dropped elements that is never meant to be seen.
	p.SkipElementsContent("head", "select", "template", "svg", "math", "textarea", "button", "option")
	return p
}

// cssProperties are the CSS properties a message may set on its elements:
// layout within the frame, text and colours; nothing that loads
// (background-image, list-style-image, content, cursor, border-image) or
// that escapes the box (position).
var cssProperties = []string{
	"color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight", "font-variant",
	"text-align", "text-decoration", "text-transform", "text-indent", "letter-spacing", "word-spacing",
	"line-height", "white-space", "word-break", "word-wrap", "overflow-wrap", "vertical-align",
	"margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
	"padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
	"border", "border-top", "border-right", "border-bottom", "border-left", "border-width", "border-style",
	"border-color", "border-collapse", "border-spacing", "border-radius",
	"border-top-color", "border-right-color", "border-bottom-color", "border-left-color",
	"border-top-width", "border-right-width", "border-bottom-width", "border-left-width",
	"border-top-style", "border-right-style", "border-bottom-style", "border-left-style",
	"width", "height", "max-width", "min-width", "max-height", "min-height",
	"display", "float", "clear", "list-style-type", "table-layout", "direction", "text-overflow", "overflow",
}

// safeCSS accepts a property value that bluemonday's grammar for the
// property accepts (checked beside it) and that holds nothing able to fetch or run: no url(),
// image-set(), expression(), @import, comments or escapes (which could
// spell any of those).
func safeCSS(value string) bool {
	l := strings.ToLower(value)
	for _, bad := range []string{"url(", "image-set", "image(", "expression", "@import", "\\", "/*", "javascript:", "behavior", "binding", "&#", "attr("} {
		if strings.Contains(l, bad) {
			return false
		}
	}
	return true
}

// sanitizer makes HTML mail safe for the message frame.
type sanitizer struct {
	policy *bluemonday.Policy
}

func newSanitizer() *sanitizer { return &sanitizer{policy: newPolicy()} }

// sanitized is a message's HTML made safe.
type sanitized struct {
	HTML    string
	Remote  int             // remote images, shown or blocked
	Blocked bool            // some were left out
	CIDs    map[string]bool // the Content-IDs images refer to
}

// sanitize cleans HTML mail; inline is the message's images by Content-ID
// (nil: cid: images are left out); remote says whether remote images are
// kept (the user asked to see them) or dropped.
func (s *sanitizer) sanitize(src string, inline map[string]inlineImage, remote bool) sanitized {
	clean := s.policy.Sanitize(src)
	var out bytes.Buffer
	res := sanitized{}
	z := html.NewTokenizer(strings.NewReader(clean))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				return sanitized{}
			}
			break
		}
		tok := z.Token()
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			switch tok.DataAtom {
			case atom.Img:
				tok.Attr = s.image(tok.Attr, inline, remote, &res)
			case atom.A, atom.Area:
				tok.Attr = link(tok.Attr)
			}
		}
		out.WriteString(tok.String())
	}
	res.HTML = out.String()
	return res
}

// image rewrites an img's src: cid: becomes a data: URL of the message's
// own part, http(s) stays only when remote images are shown.
func (s *sanitizer) image(attrs []html.Attribute, inline map[string]inlineImage, remote bool, res *sanitized) []html.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Key != "src" {
			if a.Key != "srcset" {
				out = append(out, a)
			}
			continue
		}
		u, err := url.Parse(a.Val)
		if err != nil {
			continue
		}
		switch strings.ToLower(u.Scheme) {
		case "cid":
			id, err := url.PathUnescape(u.Opaque)
			if err != nil {
				continue
			}
			id = strings.Trim(id, "<>")
			if res.CIDs == nil {
				res.CIDs = map[string]bool{}
			}
			res.CIDs[id] = true
			if img, ok := inline[id]; ok {
				a.Val = "data:" + img.Type + ";base64," + base64.StdEncoding.EncodeToString(img.Data)
				out = append(out, a)
			}
		case "http", "https":
			res.Remote++
			if remote {
				out = append(out, a)
			} else {
				res.Blocked = true
			}
		}
	}
	if remote {
		out = append(out, html.Attribute{Key: "referrerpolicy", Val: "no-referrer"})
	}
	return out
}

// link makes every link open outside the frame, with neither the opener
// nor the referrer passed on.
func link(attrs []html.Attribute) []html.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Key != "rel" && a.Key != "target" {
			out = append(out, a)
		}
	}
	return append(out, html.Attribute{Key: "rel", Val: "noopener noreferrer"}, html.Attribute{Key: "target", Val: "_blank"})
}

// htmlToText turns HTML into plain text: text nodes, line breaks at block
// elements, nothing of scripts, styles or heads. For quoting, searching
// and messages without a text part.
func htmlToText(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	skip := 0
	nl := func() {
		if s := b.String(); len(s) > 0 && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				t := strings.Join(strings.Fields(string(z.Text())), " ")
				if t != "" {
					if s := b.String(); len(s) > 0 && !strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, " ") {
						b.WriteByte(' ')
					}
					b.WriteString(t)
				}
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Br, atom.P, atom.Div, atom.Tr, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Table, atom.Blockquote, atom.Pre, atom.Hr, atom.Ul, atom.Ol:
				nl()
			}
		}
		if b.Len() > maxTextPart {
			return strings.TrimSpace(b.String())
		}
	}
}
