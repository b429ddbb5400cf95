package imapd

import (
	"testing"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// TestHeaderMayHave: the raw-header test that spares SEARCH parsing
// headers never turns a match into a miss (it is only a shortcut), and
// does rule out a plain miss.
func TestHeaderMayHave(t *testing.T) {
	for _, c := range []struct {
		prefix, header, key, value string
		match, skipped             bool // skipped: ruled out without parsing
	}{
		{"", "Subject: hello needle world\r\n\r\n", "Subject", "NEEDLE", true, false},
		{"", "Subject: hello world\r\n\r\n", "Subject", "needle", false, true},
		// Unfolding joins lines with one space: "foo bar" spans a fold.
		{"", "Subject: foo\r\n   bar\r\n\r\n", "Subject", "foo bar", true, false},
		{"", "Subject: foo\r\n\tbar\r\n\r\n", "Subject", "o b", true, false},
		// An encoded word decodes to what the raw text lacks.
		{"", "Subject: =?utf-8?q?n=65edle?=\r\n\r\n", "Subject", "needle", true, false},
		{"", "Subject: x\r\nX-Other: =?utf-8?q?y?=\r\n\r\n", "Subject", "needle", false, false},
		// Unicode folding: KELVIN SIGN lower-cases to "k".
		{"", "Subject: \u212aey\r\n\r\n", "Subject", "key", true, false},
		{"", "Subject: Grüße\r\n\r\n", "Subject", "GRÜSSE", false, true},
		{"", "Subject: GRÜẞE\r\n\r\n", "Subject", "grüße", true, false},
		// Address fields match on their parsed addresses too.
		{"", "From: john (comment) @ example.test\r\n\r\n", "From", "john@example.test", true, false},
		// The per-recipient prefix is part of the header.
		{"Delivered-To: needle@example.test\r\n", "Subject: x\r\n\r\n", "Delivered-To", "needle", true, false},
		{"Delivered-To: a@example.test\r\n", "Subject: x\r\n\r\n", "Delivered-To", "needle", false, true},
		// An empty value asks for the field only.
		{"", "Subject: x\r\n\r\n", "Subject", "", true, false},
		// The value must be in the named field, not another.
		{"", "Subject: x\r\nX-Seq: needle\r\n\r\n", "Subject", "needle", false, false},
	} {
		e := &evaluator{}
		mk := func() *candidate {
			return &candidate{m: &store.MessageMeta{Message: store.Message{Prefix: c.prefix}, Header: c.header}}
		}
		want := fold(c.value)
		if got := e.headerParsedHas(mk(), c.key, want); got != c.match {
			t.Errorf("%q %s %q: parsed match %v, want %v", c.header, c.key, c.value, got, c.match)
		}
		may := e.headerMayHave(mk(), c.key, want)
		if c.match && !may {
			t.Errorf("%q %s %q: ruled out a match", c.header, c.key, c.value)
		}
		if may == c.skipped {
			t.Errorf("%q %s %q: headerMayHave %v, want %v", c.header, c.key, c.value, may, !c.skipped)
		}
		if got := e.headerHas(mk(), c.key, c.value); got != c.match {
			t.Errorf("%q %s %q: headerHas %v, want %v", c.header, c.key, c.value, got, c.match)
		}
	}
}
