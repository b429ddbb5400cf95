package address

import (
	"strings"
	"testing"
)

func TestParseLocalpart(t *testing.T) {
	a64 := strings.Repeat("a", 64)
	tests := []struct {
		in   string
		want Localpart
		err  error
		msg  string
	}{
		{in: "user", want: "user"},
		{in: "User.Name", want: "user.name"},
		{in: "first.m.last", want: "first.m.last"},
		{in: "user+tag", want: "user+tag"},
		{in: "!#$%&'*+-/=?^_`{|}~", want: "!#$%&'*+-/=?^_`{|}~"}, // all of atext
		{in: "user%remote", want: "user%remote"},
		{in: "remote!user", want: "remote!user"},
		{in: "ÄBC", want: "äbc"},
		{in: "A\u0308bc", want: "äbc"}, // NFC composes a + combining diaeresis
		{in: "ΣΑΣ", want: "σασ"},
		{in: "İstanbul", want: "istanbul"},
		{in: "I\u0307stanbul", want: "istanbul"}, // canonically equivalent to the above
		{in: "\u212Aelvin", want: "kelvin"},      // Kelvin sign
		{in: "用户", want: "用户"},
		{in: "a\u037eb", want: "a;b"}, // Greek question mark is ';' under NFC
		{in: a64, want: Localpart(a64)},
		{in: `"user"`, want: "user"},
		{in: `"User Name"`, want: "user name"},
		{in: `"a@b"`, want: "a@b"},
		{in: `"a..b"`, want: "a..b"},
		{in: `".a"`, want: ".a"},
		{in: `"a\"b"`, want: `a"b`},
		{in: `"a\\b"`, want: `a\b`},
		{in: `"\a\b"`, want: "ab"}, // a quoted pair may quote any printable
		{in: `"ü ß"`, want: "ü ß"},
		{in: `"` + strings.Repeat("a", 62) + `"`, want: Localpart(strings.Repeat("a", 62))},

		{in: "", err: ErrSyntax, msg: `local part "": empty`},
		{in: `""`, err: ErrSyntax, msg: "empty quoted string"},
		{in: ".user", err: ErrSyntax, msg: "begins or ends with a dot"},
		{in: "user.", err: ErrSyntax, msg: "begins or ends with a dot"},
		{in: "a..b", err: ErrSyntax, msg: "two dots"},
		{in: "a b", err: ErrSyntax, msg: `character ' ' is only allowed in a quoted local part`},
		{in: "bad@", err: ErrSyntax, msg: `character '@'`},
		{in: "a(b)", err: ErrSyntax, msg: `character '('`},
		{in: "a,b", err: ErrSyntax, msg: `character ','`},
		{in: `a"b`, err: ErrSyntax, msg: `character '"'`},
		{in: "a\x00b", err: ErrSyntax, msg: "control character U+0000"},
		{in: "a\rb", err: ErrSyntax, msg: "control character U+000D"},
		{in: "a\nb", err: ErrSyntax, msg: "control character U+000A"},
		{in: "a\x7fb", err: ErrSyntax, msg: "control character U+007F"},
		{in: "a\u0085b", err: ErrSyntax, msg: "control character U+0085"},
		{in: "\"a\x00b\"", err: ErrSyntax, msg: "control character U+0000"},
		{in: "\"a\tb\"", err: ErrSyntax, msg: "control character U+0009"},
		{in: "\"a\\\nb\"", err: ErrSyntax, msg: "backslash"},
		{in: "\"a\\ü\"", err: ErrSyntax, msg: "backslash"},
		{in: `"abc`, err: ErrSyntax, msg: "unterminated"},
		{in: `"abc\"`, err: ErrSyntax, msg: "unterminated"},
		{in: `"a"b`, err: ErrSyntax, msg: `unexpected "b" after the closing quote`},
		{in: `"a""b"`, err: ErrSyntax, msg: "after the closing quote"},
		{in: `a"b"`, err: ErrSyntax, msg: `character '"'`},
		{in: "a\xffb", err: ErrSyntax, msg: "UTF-8"},
		{in: a64 + "a", err: ErrLocalpartTooLong, msg: "65 octets"},
		{in: `"` + a64 + `"`, err: ErrLocalpartTooLong, msg: "66 octets"},
		// 64 octets as received, 96 once lower-cased: U+023A becomes U+2C65.
		{in: strings.Repeat("\u023a", 32), err: ErrLocalpartTooLong, msg: "once normalised"},
	}
	for _, tt := range tests {
		got, err := ParseLocalpart(tt.in)
		if checkErr(t, tt.in, err, tt.err, tt.msg) && got != tt.want {
			t.Errorf("ParseLocalpart(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLocalpartWire(t *testing.T) {
	tests := []struct {
		lp   Localpart
		want string
	}{
		{"user", "user"},
		{"user.name+tag", "user.name+tag"},
		{"用户", "用户"},
		{"a b", `"a b"`},
		{"a@b", `"a@b"`},
		{".a", `".a"`},
		{"a.", `"a."`},
		{"a..b", `"a..b"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"a;b", `"a;b"`},
	}
	for _, tt := range tests {
		got := tt.lp.wire()
		if got != tt.want {
			t.Errorf("Localpart(%q).wire() = %q, want %q", tt.lp, got, tt.want)
		}
		if back, err := ParseLocalpart(got); err != nil || back != tt.lp {
			t.Errorf("%q re-parses to %q, %v", got, back, err)
		}
	}
}

func TestValidMailboxName(t *testing.T) {
	tests := []struct {
		lp  Localpart
		err error
		msg string
	}{
		{lp: "user"},
		{lp: "first.last"},
		{lp: "first_last-2+news"},
		{lp: "x"},
		{lp: "0"},
		{lp: "müller"},
		{lp: "用户"},
		{lp: "नमस्ते"}, // Devanagari, with combining marks
		{lp: "иван.петров"},
		{lp: Localpart(strings.Repeat("a", 64))},

		{lp: "", err: ErrSyntax, msg: "empty"},
		{lp: Localpart(strings.Repeat("a", 65)), err: ErrLocalpartTooLong, msg: "65 octets"},
		{lp: ".user", err: ErrSyntax, msg: "begin or end with a dot"},
		{lp: "user.", err: ErrSyntax, msg: "begin or end with a dot"},
		{lp: "a..b", err: ErrSyntax, msg: "two dots in a row"},
		{lp: "a@b", err: ErrSyntax, msg: `character '@' is not allowed`},
		{lp: "a%b", err: ErrSyntax, msg: `character '%'`},
		{lp: "a/b", err: ErrSyntax, msg: `character '/'`},
		{lp: "a!b", err: ErrSyntax, msg: `character '!'`},
		{lp: `a"b`, err: ErrSyntax, msg: `character '"'`},
		{lp: `a\b`, err: ErrSyntax, msg: `character '\\'`},
		{lp: "a=b", err: ErrSyntax, msg: `character '='`},
		{lp: "a b", err: ErrSyntax, msg: "spaces are not allowed"},
		{lp: "a\tb", err: ErrSyntax, msg: "U+0009"},
		{lp: "a\u200bb", err: ErrSyntax, msg: "U+200B"}, // zero width space
		{lp: "\u0308a", err: ErrSyntax, msg: "U+0308"},  // a mark cannot come first
		{lp: "a\xffb", err: ErrSyntax, msg: "UTF-8"},
		{lp: "User", err: ErrSyntax, msg: "canonical form"},
		{lp: "a\u0308", err: ErrSyntax, msg: "canonical form"}, // not NFC
	}
	for _, tt := range tests {
		err := ValidMailboxName(tt.lp)
		checkErr(t, string(tt.lp), err, tt.err, tt.msg)
		if err != nil && !strings.HasPrefix(err.Error(), "mailbox name ") {
			t.Errorf("%q: error %q does not name what it checked", tt.lp, err)
		}
	}
}

// TestValidMailboxNameParsed checks that a valid mailbox name is a dot-atom
// and comes out of ParseLocalpart unchanged, so it never needs quoting.
func TestValidMailboxNameParsed(t *testing.T) {
	for _, s := range []string{"user", "first.last", "a_b-c+d", "müller", "用户", "नमस्ते"} {
		lp, err := ParseLocalpart(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidMailboxName(lp); err != nil {
			t.Errorf("%q: %v", s, err)
		}
		if string(lp) != s || lp.wire() != s {
			t.Errorf("%q: parsed %q, wire %q", s, lp, lp.wire())
		}
	}
}
