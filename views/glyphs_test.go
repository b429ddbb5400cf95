package views_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNoFontDependentGlyphs: pages use no emoji or pictographic symbols,
// which render as empty boxes on a system without an emoji font; icons
// are inline SVG instead.
func TestNoFontDependentGlyphs(t *testing.T) {
	risky := func(r rune) bool {
		return (r >= 0x2600 && r <= 0x27BF) || // miscellaneous symbols, dingbats
			(r >= 0x1F000 && r <= 0x1FAFF) || // emoji and pictographs
			r == 0xFE0F // emoji presentation selector
	}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".templ") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for line, text := range strings.Split(string(b), "\n") {
			for _, r := range text {
				if risky(r) {
					t.Errorf("%s:%d: %q (U+%04X) needs an emoji or symbol font", path, line+1, string(r), r)
				}
			}
		}
		if !utf8.Valid(b) {
			t.Errorf("%s: not UTF-8", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
