package webmail

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// active returns what a browser would still run or fetch in a sanitised
// document: script-like elements, event handlers, javascript: or remote
// URLs in attributes, and CSS that loads or evaluates.
func active(t *testing.T, doc string) []string {
	t.Helper()
	var bad []string
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return bad
		}
		tok := z.Token()
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		switch tok.Data {
		case "script", "style", "iframe", "frame", "object", "embed", "svg", "math", "form", "input", "button", "select",
			"textarea", "link", "meta", "base", "audio", "video", "source", "template", "applet":
			bad = append(bad, "<"+tok.Data+">")
		}
		for _, a := range tok.Attr {
			v := strings.ToLower(a.Val)
			switch {
			case strings.HasPrefix(a.Key, "on"):
				bad = append(bad, a.Key)
			case strings.Contains(v, "javascript:"), strings.Contains(v, "vbscript:"), strings.Contains(v, "data:text"):
				bad = append(bad, a.Key+"="+a.Val)
			case a.Key == "style" && (strings.Contains(v, "url(") || strings.Contains(v, "expression") || strings.Contains(v, "@import") || strings.Contains(v, "\\")):
				bad = append(bad, "style="+a.Val)
			case (a.Key == "src" || a.Key == "background" || a.Key == "srcset" || a.Key == "poster") && (strings.HasPrefix(v, "http") || strings.HasPrefix(v, "//")):
				bad = append(bad, a.Key+"="+a.Val)
			}
		}
	}
}

func TestSanitize(t *testing.T) {
	s := newSanitizer()
	for _, tc := range []struct {
		name, in string
		keep     []string // text or markup that must stay
	}{
		{"script", `<p>hi</p><script>alert(1)</script>`, []string{"<p>hi</p>"}},
		{"script in caps", `<SCRIPT SRC=//evil.test/x.js></SCRIPT>ok`, []string{"ok"}},
		{"onerror", `<img src=x onerror=alert(1)>text`, []string{"text"}},
		{"javascript link", `<a href="javascript:alert(1)">x</a><a href="JaVaScRiPt:alert(1)">y</a><a href="java&#x09;script:alert(1)">z</a>`, []string{"x", "y", "z"}},
		{"svg onload", `<svg onload=alert(1)><circle r=1 /></svg>after`, []string{"after"}},
		{"svg in svg", `<svg><svg onload=alert(1)>`, nil},
		{"math", `<math><mi xlink:href="javascript:alert(1)">x</mi></math>`, nil},
		{"select style", `<select><style><img src=x onerror=alert(1)></style></select>after`, []string{"after"}},
		{"noscript", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, nil},
		{"cyrillic s", "<\u0455cript>alert(1)</\u0455cript>", []string{"&lt;ѕcript&gt;"}},
		{"cyrillic in attribute", "<img src=x \u043Enerror=alert(1)>", nil},
		{"css expression", `<div style="width: expression(alert(1)); color: red">x</div>`, []string{"color: red"}},
		{"css url", `<div style="background-image: url(http://evil.test/a.png)">x</div><p style="background: url('//evil.test/b')">y</p>`, []string{"x", "y"}},
		{"css escape", `<div style="background: \75 rl(http://evil.test/)">x</div>`, []string{"x"}},
		{"css import", `<style>@import url(http://evil.test/a.css);</style><div style="color: blue">x</div>`, []string{"color: blue"}},
		{"css behavior", `<div style="behavior: url(x.htc); -moz-binding: url(x.xml#y)">x</div>`, []string{"x"}},
		{"iframe", `<iframe src="http://evil.test/"></iframe>after`, []string{"after"}},
		{"form", `<form action="http://evil.test/"><input name=p type=password><button>go</button></form>`, nil},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=http://evil.test/">x`, []string{"x"}},
		{"base", `<base href="http://evil.test/">x`, []string{"x"}},
		{"object", `<object data="http://evil.test/x.swf"></object><embed src="http://evil.test/y">x`, []string{"x"}},
		{"link stylesheet", `<link rel=stylesheet href="http://evil.test/a.css">x`, []string{"x"}},
		{"srcset", `<img srcset="http://evil.test/a.png 1x" alt=a>`, nil},
		{"background attribute", `<table background="http://evil.test/a.png"><tr><td background="http://evil.test/b.png">x</td></tr></table>`, []string{"x"}},
		{"data html", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`, []string{"x"}},
		{"video poster", `<video poster="http://evil.test/p.png"></video>x`, []string{"x"}},
		{"remote image", `<img src="https://tracker.test/pixel.gif" alt="">`, nil},
		{"comment trick", `<!--<img src="--><img src=x onerror=alert(1)//">`, nil},
		{"unclosed attribute", `<img src="x" alt="a onerror=alert(1)`, nil},
		{"table layout kept", `<table width="100%" cellpadding="2"><tr><td align="center" bgcolor="#eeeeee"><font color="red">t</font></td></tr></table>`,
			[]string{`width="100%"`, `align="center"`, `<font color="red">`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := s.sanitize(tc.in, nil, false)
			if bad := active(t, out.HTML); len(bad) > 0 {
				t.Errorf("%s\n-> %s\nkeeps %v", tc.in, out.HTML, bad)
			}
			for _, k := range tc.keep {
				if !strings.Contains(out.HTML, k) {
					t.Errorf("%s\n-> %s\nlost %q", tc.in, out.HTML, k)
				}
			}
		})
	}
}

func TestSanitizeLinksAndImages(t *testing.T) {
	s := newSanitizer()
	inline := map[string]inlineImage{"logo@x": {Type: "image/png", Data: []byte("png")}}
	in := `<a href="https://example.org/a" rel="opener" target="_self">a</a><a href="mailto:x@example.org">m</a>` +
		`<img src="cid:logo@x"><img src="cid:missing@x"><img src="http://tracker.test/p.gif"><img src="relative.png">`
	out := s.sanitize(in, inline, false)
	if !strings.Contains(out.HTML, `<a href="https://example.org/a" rel="noopener noreferrer" target="_blank">a</a>`) {
		t.Errorf("link: %s", out.HTML)
	}
	if !strings.Contains(out.HTML, `href="mailto:x@example.org"`) {
		t.Errorf("mailto: %s", out.HTML)
	}
	if !strings.Contains(out.HTML, `<img src="data:image/png;base64,cG5n">`) {
		t.Errorf("cid image: %s", out.HTML)
	}
	if strings.Contains(out.HTML, "missing") || strings.Contains(out.HTML, "tracker") || strings.Contains(out.HTML, "relative") {
		t.Errorf("blocked images kept: %s", out.HTML)
	}
	if !out.Blocked || out.Remote != 1 || !out.CIDs["logo@x"] || !out.CIDs["missing@x"] {
		t.Errorf("result %+v", out)
	}
	shown := s.sanitize(in, inline, true)
	if !strings.Contains(shown.HTML, `<img src="http://tracker.test/p.gif" referrerpolicy="no-referrer">`) || shown.Blocked {
		t.Errorf("images shown: %s", shown.HTML)
	}
}

func TestHTMLToText(t *testing.T) {
	got := htmlToText(`<html><head><title>T</title><style>p{}</style></head><body><p>One &amp; two</p><div>three<br>four</div><script>x()</script></body></html>`)
	if got != "One & two\nthree\nfour" {
		t.Errorf("%q", got)
	}
}
