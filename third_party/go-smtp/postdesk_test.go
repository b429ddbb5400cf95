package smtp

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// Tests of the Postdesk patches (PATCHES.md).

func TestPostdeskPaths(t *testing.T) {
	for _, tc := range []struct{ raw, path string }{
		{`<"a@b"@example.org>`, `"a@b"@example.org`},
		{`<"a\"b"@example.org>`, `"a\"b"@example.org`},
		{"<@hop:user@example.org>", "user@example.org"},
	} {
		p := parser{tc.raw}
		got, err := p.parsePath()
		if err != nil || got != tc.path {
			t.Errorf("parsePath(%q) = %q, %v; want %q", tc.raw, got, err, tc.path)
		}
	}
}

func TestPostdeskStrictCRLF(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // what is read before the end; "" with bare
		bare bool
	}{
		{"a\r\nb\r\n.\r\n", "a\r\nb\r\n", false},
		{"..x\r\n.\r\n", ".x\r\n", false},
		{"a\nb\r\n.\r\n", "", true},
		{"a\rb\r\n.\r\n", "", true},
		{"a\r\n.\rb\r\n.\r\n", "", true},
		{"a\r\n.\r\r\n.\r\n", "", true},
		{"a\r\n.\nb\r\n.\r\n", "", true},
		{"\n.\n\r\n.\r\n", "", true},
	} {
		r := &dataReader{r: bufio.NewReader(strings.NewReader(tc.in + "NEXT")), strict: true}
		got, err := io.ReadAll(r)
		if tc.bare != errors.Is(err, ErrBareLineEnding) {
			t.Errorf("%q: err %v, bare %v", tc.in, err, tc.bare)
		}
		if !tc.bare && (err != nil || string(got) != tc.want) {
			t.Errorf("%q: read %q, %v; want %q", tc.in, got, err, tc.want)
		}
		rest, _ := io.ReadAll(r.r)
		if string(rest) != "NEXT" {
			t.Errorf("%q: the reader stopped before the real end of data; left %q", tc.in, rest)
		}
	}
}
