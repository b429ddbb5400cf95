package address

import (
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		want Address
		err  error
		msg  string
	}{
		{in: "user@example.test", want: Address{"user", "example.test"}},
		{in: "User.Name@Example.TEST", want: Address{"user.name", "example.test"}},
		{in: "  user@example.test\t", want: Address{"user", "example.test"}},
		{in: "user@example.test.", want: Address{"user", "example.test"}},
		{in: "user+tag@example.test", want: Address{"user+tag", "example.test"}},
		{in: "Müller@Bücher.example", want: Address{"müller", "xn--bcher-kva.example"}},
		{in: `"john doe"@example.test`, want: Address{"john doe", "example.test"}},
		{in: `"a@b"@example.test`, want: Address{"a@b", "example.test"}},
		{in: `"a\"b"@example.test`, want: Address{`a"b`, "example.test"}},
		{in: "user%remote@example.test", want: Address{"user%remote", "example.test"}},

		{in: "", err: ErrSyntax, msg: `address "": empty`},
		{in: "   ", err: ErrSyntax, msg: "empty"},
		{in: "user", err: ErrNoDomain, msg: `address "user": missing @domain`},
		{in: `"a@b"`, err: ErrNoDomain, msg: "missing @domain"},
		{in: "user@", err: ErrDomain, msg: "missing domain after @"},
		{in: "@example.test", err: ErrSyntax, msg: "missing local part"},
		{in: "@", err: ErrSyntax, msg: "missing local part"},
		{in: "bad@@example.test", err: ErrSyntax, msg: `address "bad@@example.test": local part "bad@": character '@'`},
		{in: "a@b@example.test", err: ErrSyntax, msg: `local part "a@b"`},
		{in: "user@exa mple.test", err: ErrDomain, msg: `address "user@exa mple.test": domain "exa mple.test": character ' '`},
		{in: "user@localhost", err: ErrDomain, msg: "at least one dot"},
		{in: "user@[192.0.2.1]", err: ErrDomain, msg: "address literal"},
		{in: "<user@example.test>", err: ErrSyntax, msg: "angle brackets"},
		{in: "John <user@example.test>", err: ErrSyntax, msg: "display names"},
		{in: "John user@example.test", err: ErrSyntax, msg: `character ' '`},
		{in: `"a"b@example.test`, err: ErrSyntax, msg: `unexpected "b@example.test" after the quoted local part`},
		{in: `"abc@example.test`, err: ErrSyntax, msg: "unterminated quoted string"},
		{in: "a..b@example.test", err: ErrSyntax, msg: "two dots"},
		{in: strings.Repeat("a", 65) + "@example.test", err: ErrLocalpartTooLong, msg: "65 octets"},
		{in: strings.Repeat("a", 64) + "@" + strings.Repeat("d", 60) + ".example." + strings.Repeat("e", 63) + "." + strings.Repeat("f", 63),
			err: ErrPathTooLong, msg: "more than 256"},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if checkErr(t, tt.in, err, tt.err, tt.msg) && got != tt.want {
			t.Errorf("ParseAddress(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestAddressString(t *testing.T) {
	tests := []struct {
		a             Address
		want, unicode string
	}{
		{Address{}, "", ""},
		{Address{"user", "example.test"}, "user@example.test", "user@example.test"},
		{Address{"a b", "example.test"}, `"a b"@example.test`, `"a b"@example.test`},
		{Address{"a@b", "example.test"}, `"a@b"@example.test`, `"a@b"@example.test`},
		{Address{`a"b\c`, "example.test"}, `"a\"b\\c"@example.test`, `"a\"b\\c"@example.test`},
		{Address{"müller", "xn--bcher-kva.example"}, "müller@xn--bcher-kva.example", "müller@bücher.example"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.a, got, tt.want)
		}
		if got := tt.a.Unicode(); got != tt.unicode {
			t.Errorf("%#v.Unicode() = %q, want %q", tt.a, got, tt.unicode)
		}
		if tt.a.IsZero() {
			continue
		}
		for _, s := range []string{tt.a.String(), tt.a.Unicode()} {
			if back, err := ParseAddress(s); err != nil || back != tt.a {
				t.Errorf("%q re-parses to %#v, %v", s, back, err)
			}
		}
	}
}

func TestAddressIsZero(t *testing.T) {
	if !(Address{}).IsZero() {
		t.Error("zero Address: IsZero false")
	}
	for _, a := range []Address{{Local: "a"}, {Domain: "example.test"}, {"a", "example.test"}} {
		if a.IsZero() {
			t.Errorf("%#v: IsZero true", a)
		}
	}
}
