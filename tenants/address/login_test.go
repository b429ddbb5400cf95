package address

import "testing"

func TestParseLogin(t *testing.T) {
	want := Address{"user", "example.test"}
	tests := []struct {
		in   string
		want Address
		err  error
		msg  string
	}{
		{in: "user@example.test", want: want},
		{in: "user/example.test", want: want},
		{in: "user%example.test", want: want},
		{in: "USER@Example.Test", want: want},
		{in: "User/EXAMPLE.TEST", want: want},
		{in: "uSeR%example.test.", want: want},
		{in: " user@example.test ", want: want},
		{in: "first.last@example.test", want: Address{"first.last", "example.test"}},
		{in: "Müller/Bücher.example", want: Address{"müller", "xn--bcher-kva.example"}},
		// '@' wins over '/' and '%', and '/' over '%', wherever they are.
		{in: "a/b@example.test", want: Address{"a/b", "example.test"}},
		{in: "a%b@example.test", want: Address{"a%b", "example.test"}},
		{in: "a%b/example.test", want: Address{"a%b", "example.test"}},
		{in: `"a b"@example.test`, want: Address{"a b", "example.test"}},

		{in: "admin", err: ErrNoDomain, msg: `login "admin": no domain`},
		{in: "Admin", err: ErrNoDomain, msg: "user@domain, user/domain or user%domain"},
		{in: "", err: ErrSyntax, msg: `login "": empty`},
		{in: "  ", err: ErrSyntax, msg: "empty"},
		{in: "@example.test", err: ErrSyntax, msg: "missing local part"},
		{in: "/example.test", err: ErrSyntax, msg: "missing local part"},
		{in: "user@", err: ErrDomain, msg: "missing domain"},
		{in: "user/", err: ErrDomain, msg: "missing domain"},
		{in: "user@example", err: ErrDomain, msg: "at least one dot"},
		{in: "user@example.test/x", err: ErrDomain, msg: `character '/'`},
		{in: "bad@@example.test", err: ErrSyntax, msg: `local part "bad@"`},
		{in: "us er/example.test", err: ErrSyntax, msg: `character ' '`},
	}
	for _, tt := range tests {
		got, err := ParseLogin(tt.in)
		if checkErr(t, tt.in, err, tt.err, tt.msg) && got != tt.want {
			t.Errorf("ParseLogin(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
