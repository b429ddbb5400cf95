package address

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDomain(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	name253 := strings.Repeat(label63+".", 3) + strings.Repeat("b", 61) // 3*64 + 61
	tests := []struct {
		in   string
		want Domain
		err  error
		msg  string
	}{
		{in: "example.test", want: "example.test"},
		{in: "Example.TEST", want: "example.test"},
		{in: "example.test.", want: "example.test"},
		{in: "mail.sub.example.test", want: "mail.sub.example.test"},
		{in: "a-b.example.test", want: "a-b.example.test"},
		{in: "123.example", want: "123.example"},
		{in: "münchen.example", want: "xn--mnchen-3ya.example"},
		{in: "MÜNCHEN.Example.", want: "xn--mnchen-3ya.example"},
		{in: "xn--mnchen-3ya.example", want: "xn--mnchen-3ya.example"},
		{in: "XN--MNCHEN-3YA.EXAMPLE", want: "xn--mnchen-3ya.example"},
		{in: "faß.de", want: "xn--fa-hia.de"}, // non-transitional: not fass.de
		{in: "☃.test", want: "xn--n3h.test"},
		{in: "مثال.إختبار", want: "xn--mgbh0fb.xn--kgbechtv"},
		{in: "Ｅｘａｍｐｌｅ.test", want: "example.test"}, // UTS #46 maps full-width forms
		{in: "a\u3002test", want: "a.test"},        // and ideographic full stops
		{in: label63 + ".test", want: Domain(label63 + ".test")},
		{in: name253, want: Domain(name253)},
		{in: name253 + ".", want: Domain(name253)},

		{in: "", err: ErrDomain, msg: `domain "": empty`},
		{in: ".", err: ErrDomain, msg: "empty label"},
		{in: "example.test..", err: ErrDomain, msg: "empty label"},
		{in: ".example.test", err: ErrDomain, msg: "empty label"},
		{in: "example..test", err: ErrDomain, msg: "empty label"},
		{in: "localhost", err: ErrUnqualified, msg: "needs at least one dot"},
		{in: "münchen", err: ErrUnqualified, msg: "needs at least one dot"},
		{in: "[192.0.2.1]", err: ErrDomain, msg: "address literal"},
		{in: "1.2.3.4", err: ErrDomain, msg: "all digits"},
		{in: "example.123", err: ErrDomain, msg: "all digits"},
		{in: "exa mple.test", err: ErrDomain, msg: `character ' '`},
		{in: " example.test", err: ErrDomain, msg: `character ' '`},
		{in: "_dmarc.example.test", err: ErrDomain, msg: `character '_'`},
		{in: "@example.test", err: ErrDomain, msg: `domain "@example.test": character '@'`},
		{in: "example.test\x00", err: ErrDomain, msg: `character '\x00'`},
		{in: "-a.example.test", err: ErrDomain, msg: "hyphen"},
		{in: "a-.example.test", err: ErrDomain, msg: "hyphen"},
		{in: "ab--cd.test", err: ErrDomain, msg: "internationalised"}, // RFC 5891 4.2.3.1
		{in: "xn--zz.test", err: ErrDomain, msg: "internationalised"}, // bad punycode
		{in: "xn--abc.test", err: ErrDomain, msg: "internationalised"},
		{in: "ex\u200dample.test", err: ErrDomain, msg: "internationalised"}, // ZWJ out of context
		{in: "a\u2474.test", err: ErrDomain, msg: "internationalised"},       // maps to "(1)"
		{in: "\xff.test", err: ErrDomain, msg: "UTF-8"},
		{in: strings.Repeat("a", 64) + ".test", err: ErrDomain, msg: "more than 63"},
		{in: "a" + name253, err: ErrDomain, msg: "more than 253"},
		{in: strings.Repeat("ü", 62) + ".test", err: ErrDomain, msg: "more than 63"}, // long A-label
		{in: strings.Repeat("a.", 2000) + "test", err: ErrDomain, msg: "far more"},
	}
	for _, tt := range tests {
		got, err := ParseDomain(tt.in)
		if checkErr(t, tt.in, err, tt.err, tt.msg) && got != tt.want {
			t.Errorf("ParseDomain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDomainUnicode(t *testing.T) {
	tests := []struct {
		in, ascii, unicode string
	}{
		{"example.test", "example.test", "example.test"},
		{"xn--mnchen-3ya.example", "xn--mnchen-3ya.example", "münchen.example"},
		{"Bücher.Example", "xn--bcher-kva.example", "bücher.example"},
		{"faß.de", "xn--fa-hia.de", "faß.de"},
	}
	for _, tt := range tests {
		d, err := ParseDomain(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != tt.ascii || d.Unicode() != tt.unicode {
			t.Errorf("%q: String %q, Unicode %q; want %q, %q", tt.in, d.String(), d.Unicode(), tt.ascii, tt.unicode)
		}
		if d2, err := ParseDomain(d.Unicode()); err != nil || d2 != d {
			t.Errorf("%q: Unicode form %q re-parses to %q, %v", tt.in, d.Unicode(), d2, err)
		}
	}
	if got := Domain("").Unicode(); got != "" {
		t.Errorf("zero Domain Unicode() = %q", got)
	}
}

// TestUnqualified: a dotless domain is ErrUnqualified and still ErrDomain;
// other bad domains are not ErrUnqualified.
func TestUnqualified(t *testing.T) {
	_, err := ParseReversePath("root@vm")
	if !errors.Is(err, ErrUnqualified) || !errors.Is(err, ErrDomain) {
		t.Errorf("root@vm: %v, want ErrUnqualified wrapping ErrDomain", err)
	}
	for _, in := range []string{"root@a..test", "root@1.2.3.4", "root@-a.test", "root@a_b.test"} {
		if _, err := ParseReversePath(in); err == nil || errors.Is(err, ErrUnqualified) {
			t.Errorf("%s: %v, want a domain error other than ErrUnqualified", in, err)
		}
	}
}
