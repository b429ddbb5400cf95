package panel

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for _, c := range []struct {
		name, next, want string
	}{
		{"empty", "", "/"},
		{"path", "/settings", "/settings"},
		{"domain page", "/d/a.test/aliases", "/d/a.test/aliases"},
		{"query kept", "/webmail/f/3?page=2&sort=date", "/webmail/f/3?page=2&sort=date"},
		{"encoded query kept", "/webmail?q=a%20b", "/webmail?q=a%20b"},
		{"fragment dropped", "/settings#password", "/settings"},
		{"non-ASCII path", "/caf%C3%A9", "/caf%C3%A9"},
		{"at sign is a path", "/@evil.example", "/@evil.example"},

		{"tab", "/\t/evil.example", "/"},
		{"leading tab", "\t//evil.example", "/"},
		{"encoded tab", "/%09/evil.example", "/"},
		{"newline", "/\n/evil.example", "/"},
		{"carriage return", "/x\r\nSet-Cookie: a=b", "/"},
		{"encoded newline", "/x%0d%0aSet-Cookie:%20a=b", "/"},
		{"NUL", "/\x00/evil.example", "/"},
		{"DEL", "/\x7f/evil.example", "/"},
		{"scheme-relative", "//evil.example", "/"},
		{"three slashes", "///evil.example", "/"},
		{"encoded slash", "/%2F/evil.example", "/"},
		{"backslash", "/\\evil.example", "/"},
		{"backslash later", "/a\\b", "/"},
		{"encoded backslash", "/%5Cevil.example", "/"},
		{"https URL", "https://evil.example/", "/"},
		{"scheme, no slashes", "http:/evil.example", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"JavaScript", "JavaScript:alert(1)", "/"},
		{"data", "data:text/html,<script>", "/"},
		{"relative", "evil.example", "/"},
		{"leading space", " /settings", "/"},
		{"too long", "/" + strings.Repeat("a", maxNext), "/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := safeNext(c.next); got != c.want {
				t.Errorf("safeNext(%.80q) = %.80q, want %q", c.next, got, c.want)
			}
		})
	}
}
