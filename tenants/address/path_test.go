package address

import (
	"strings"
	"testing"
)

func addrPath(local Localpart, domain Domain) Path {
	return Path{Address: Address{Local: local, Domain: domain}}
}

// pathOfLength returns a path of n octets (without brackets) with a short local part.
func pathOfLength(n int) string {
	const suffix = ".example.test"
	rest := n - len("user@") - len(suffix)
	var labels []string
	for rest > 0 {
		l := min(rest, maxLabel)
		if rest-l == 1 { // a lone dot would be left over
			l--
		}
		labels = append(labels, strings.Repeat("d", l))
		rest -= l + 1
	}
	return "user@" + strings.Join(labels, ".") + suffix
}

func TestParseForwardPath(t *testing.T) {
	tests := []struct {
		in   string
		want Path
		err  error
		msg  string
	}{
		{in: "user@example.test", want: addrPath("user", "example.test")},
		{in: "User@Example.Test", want: addrPath("user", "example.test")},
		{in: "postmaster", want: Path{Postmaster: true}},
		{in: "Postmaster", want: Path{Postmaster: true}},
		{in: "POSTMASTER", want: Path{Postmaster: true}},
		{in: "Postmaster@Example.test", want: addrPath("postmaster", "example.test")},
		{in: `"a@b"@example.test`, want: addrPath("a@b", "example.test")},
		{in: `"a b"@example.test`, want: addrPath("a b", "example.test")},
		{in: `"a\"@b"@example.test`, want: addrPath(`a"@b`, "example.test")},
		{in: "user%remote.test@example.test", want: addrPath("user%remote.test", "example.test")},
		{in: "remote!user@example.test", want: addrPath("remote!user", "example.test")},
		{in: "@relay.test:user@example.test", want: addrPath("user", "example.test")},
		{in: "@a.test,@b:user@example.test", want: addrPath("user", "example.test")},
		{in: `@a.test:"x:y"@example.test`, want: addrPath("x:y", "example.test")},
		{in: "用户@例子.测试", want: addrPath("用户", "xn--fsqu00a.xn--0zwm56d")},
		{in: "user@[192.0.2.1]", want: Path{Address: Address{Local: "user"}, DomainLiteral: "[192.0.2.1]"}},
		{in: "user@[192.000.002.001]", want: Path{Address: Address{Local: "user"}, DomainLiteral: "[192.0.2.1]"}},
		{in: "User@[IPv6:2001:DB8:0::1]", want: Path{Address: Address{Local: "user"}, DomainLiteral: "[IPv6:2001:db8::1]"}},
		{in: "user@[ipv6:::ffff:192.0.2.1]", want: Path{Address: Address{Local: "user"}, DomainLiteral: "[IPv6:::ffff:192.0.2.1]"}},
		{in: pathOfLength(254), want: addrPath("user", Domain(strings.TrimPrefix(pathOfLength(254), "user@")))},

		{in: "", err: ErrSyntax, msg: `forward-path "": empty`},
		{in: "user", err: ErrSyntax, msg: "missing @domain"},
		{in: "postmaster@", err: ErrDomain, msg: "missing domain"},
		{in: "@example.test", err: ErrSyntax, msg: "source route without a colon"},
		{in: "@a,b:user@example.test", err: ErrSyntax, msg: `source route hop "b"`},
		{in: "@a,@:user@example.test", err: ErrSyntax, msg: `source route hop "@"`},
		{in: "@a b:user@example.test", err: ErrSyntax, msg: "source route hop"},
		{in: "@a:", err: ErrSyntax, msg: "missing mailbox"},
		{in: "@a:postmaster", err: ErrSyntax, msg: "missing @domain"},
		{in: "bad@@example.test", err: ErrSyntax, msg: `forward-path "bad@@example.test": local part "bad@": character '@'`},
		{in: "a@b@example.test", err: ErrSyntax, msg: `local part "a@b"`},
		{in: "<user@example.test>", err: ErrSyntax, msg: `character '<'`},
		{in: "user@example.test>", err: ErrDomain, msg: `character '>'`},
		{in: "user @example.test", err: ErrSyntax, msg: `character ' '`},
		{in: "user@ example.test", err: ErrDomain, msg: `character ' '`},
		{in: "user@example", err: ErrUnqualified, msg: "at least one dot"},
		{in: "user@-example.test", err: ErrDomain, msg: "hyphen"},
		{in: `"abc@example.test`, err: ErrSyntax, msg: "unterminated quoted string"},
		{in: `"a"b@example.test`, err: ErrSyntax, msg: "after the quoted local part"},
		{in: `""@example.test`, err: ErrSyntax, msg: "empty quoted string"},
		{in: "@example.test:", err: ErrSyntax, msg: "missing mailbox"},
		{in: "\xff@example.test", err: ErrSyntax, msg: "UTF-8"},
		{in: "a\x00@example.test", err: ErrSyntax, msg: "control character"},
		{in: "a\r\n@example.test", err: ErrSyntax, msg: "control character"},
		{in: "user@[192.0.2.256]", err: ErrSyntax, msg: "invalid IPv4"},
		{in: "user@[192.0.2]", err: ErrSyntax, msg: "invalid IPv4"},
		{in: "user@[1.2.3.4.5]", err: ErrSyntax, msg: "invalid IPv4"},
		{in: "user@[0x1.2.3.4]", err: ErrSyntax, msg: "invalid IPv4"},
		{in: "user@[]", err: ErrSyntax, msg: "invalid IPv4"},
		{in: "user@[192.0.2.1", err: ErrSyntax, msg: "does not end with ]"},
		{in: "user@[::1]", err: ErrSyntax, msg: `needs the "IPv6:" tag`},
		{in: "user@[IPv6:1.2.3.4]", err: ErrSyntax, msg: "invalid IPv6"},
		{in: "user@[IPv6:fe80::1%eth0]", err: ErrSyntax, msg: "invalid IPv6"},
		{in: "user@[IPv6:zz::1]", err: ErrSyntax, msg: "invalid IPv6"},
		{in: "user@[x-tag:foo]", err: ErrSyntax, msg: "only IPv4 and IPv6"},
		{in: "@[192.0.2.1]", err: ErrSyntax, msg: "source route"},
		{in: "@a:@[192.0.2.1]", err: ErrSyntax, msg: "missing local part"},
		{in: "@a:@example.test", err: ErrSyntax, msg: "missing local part"},
		{in: `x@y.test@[192.0.2.1]`, err: ErrSyntax, msg: `local part "x@y.test"`},

		{in: strings.Repeat("a", 65) + "@example.test", err: ErrLocalpartTooLong, msg: `local part "aaa`},
		{in: `"` + strings.Repeat("a b", 21) + `"@example.test`, err: ErrLocalpartTooLong, msg: "65 octets"},
		{in: pathOfLength(255), err: ErrPathTooLong, msg: "257 octets with angle brackets, more than 256"},
		{in: strings.Repeat("x", 1<<20), err: ErrPathTooLong, msg: `forward-path "xxxx`},
		// Fits as received, not once the domain is an A-label.
		// ("aü" is 3 octets, its A-label "xn--a-tfa" 9.)
		{in: strings.Repeat("u", 10) + "@" + strings.Repeat("aü.", 24) + "test", err: ErrPathTooLong, msg: "257 octets"},
	}
	for _, tt := range tests {
		got, err := ParseForwardPath(tt.in)
		if checkErr(t, tt.in, err, tt.err, tt.msg) && got != tt.want {
			t.Errorf("ParseForwardPath(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseReversePath(t *testing.T) {
	tests := []struct {
		in   string
		want Path
		err  error
		msg  string
	}{
		{in: "", want: Path{}},
		{in: "User@Example.Test", want: addrPath("user", "example.test")},
		{in: "@relay.test:user@example.test", want: addrPath("user", "example.test")},
		{in: `"a@b"@example.test`, want: addrPath("a@b", "example.test")},
		{in: "postmaster@example.test", want: addrPath("postmaster", "example.test")},
		{in: "user@[192.0.2.1]", want: Path{Address: Address{Local: "user"}, DomainLiteral: "[192.0.2.1]"}},

		{in: "postmaster", err: ErrSyntax, msg: `reverse-path "postmaster": postmaster without a domain is only allowed as a recipient`},
		{in: "Postmaster", err: ErrSyntax, msg: "only allowed as a recipient"},
		{in: "<>", err: ErrSyntax, msg: "missing @domain"},
		{in: "user", err: ErrSyntax, msg: "missing @domain"},
		{in: "bad@@example.test", err: ErrSyntax, msg: `reverse-path "bad@@example.test": local part "bad@"`},
		{in: strings.Repeat("a", 65) + "@example.test", err: ErrLocalpartTooLong},
		{in: pathOfLength(255), err: ErrPathTooLong},
	}
	for _, tt := range tests {
		got, err := ParseReversePath(tt.in)
		if checkErr(t, tt.in, err, tt.err, tt.msg) && got != tt.want {
			t.Errorf("ParseReversePath(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestPathString(t *testing.T) {
	tests := []struct {
		p    Path
		want string
		null bool
	}{
		{p: Path{}, want: "", null: true},
		{p: Path{Postmaster: true}, want: "postmaster"},
		{p: addrPath("user", "example.test"), want: "user@example.test"},
		{p: addrPath("a@b", "example.test"), want: `"a@b"@example.test`},
		{p: Path{Address: Address{Local: "a b"}, DomainLiteral: "[192.0.2.1]"}, want: `"a b"@[192.0.2.1]`},
		{p: Path{Address: Address{Local: "u"}, DomainLiteral: "[IPv6:2001:db8::1]"}, want: "u@[IPv6:2001:db8::1]"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
		if got := tt.p.IsNull(); got != tt.null {
			t.Errorf("%#v.IsNull() = %v", tt.p, got)
		}
		if back, err := ParseForwardPath(tt.want); !tt.null && (err != nil || back != tt.p) {
			t.Errorf("%q re-parses to %#v, %v", tt.want, back, err)
		}
	}
}

// FuzzParseForwardPath feeds arbitrary input to every parser: none may
// panic, every error must wrap exactly one sentinel, and every success must
// print as a string that parses back to the same value.
func FuzzParseForwardPath(f *testing.F) {
	for _, s := range []string{
		"", "postmaster", "user@example.test", "User@Example.Test.", `"a@b"@example.test`,
		`"a\"b\\c d"@example.test`, "@a,@b:user@example.test", "user%remote@example.test",
		"remote!user@example.test", "user@[192.0.2.1]", "user@[IPv6:2001:db8::1]",
		"Müller@Bücher.example", "用户@例子.测试", "xn--mnchen-3ya.example", "user/example.test",
		"a\u037eb@example.test", "İ@x.test", "bad@@example.test", `"unterminated@x.test`,
		"a..b@example.test", `".a"@example.test`, "user@ｅｘａｍｐｌｅ.test",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, parse := range map[string]func(string) (Path, error){
			"ParseForwardPath": ParseForwardPath,
			"ParseReversePath": ParseReversePath,
		} {
			p, err := parse(s)
			if err != nil {
				checkSentinel(t, s, err)
				continue
			}
			out := p.String()
			back, err := parse(out)
			if err != nil || back != p || back.String() != out {
				t.Fatalf("%s(%q) = %#v, String %q re-parses to %#v, %v", name, s, p, out, back, err)
			}
			if p.Address.Domain != "" && p.DomainLiteral != "" || p.Postmaster && !p.Address.IsZero() {
				t.Fatalf("%s(%q) = %#v: inconsistent", name, s, p)
			}
		}

		for name, parse := range map[string]func(string) (Address, error){
			"ParseAddress": ParseAddress,
			"ParseLogin":   ParseLogin,
		} {
			a, err := parse(s)
			if err != nil {
				checkSentinel(t, s, err)
				continue
			}
			if back, err := parse(a.String()); err != nil || back != a {
				t.Fatalf("%s(%q) = %#v, String %q re-parses to %#v, %v", name, s, a, a.String(), back, err)
			}
		}

		if d, err := ParseDomain(s); err != nil {
			checkSentinel(t, s, err)
		} else {
			for _, out := range []string{d.String(), d.Unicode()} {
				if back, err := ParseDomain(out); err != nil || back != d {
					t.Fatalf("ParseDomain(%q) = %q, %q re-parses to %q, %v", s, d, out, back, err)
				}
			}
		}

		if lp, err := ParseLocalpart(s); err != nil {
			checkSentinel(t, s, err)
		} else {
			if back, err := ParseLocalpart(lp.wire()); err != nil || back != lp {
				t.Fatalf("ParseLocalpart(%q) = %q, %q re-parses to %q, %v", s, lp, lp.wire(), back, err)
			}
			// Names we let admins create never need quoting nor clash with login forms.
			if ValidMailboxName(lp) == nil && (lp.wire() != string(lp) || strings.ContainsAny(string(lp), "@/%")) {
				t.Fatalf("ValidMailboxName accepts %q", lp)
			}
		}
		if err := ValidMailboxName(Localpart(s)); err != nil {
			checkSentinel(t, s, err)
		} else if lp, err := ParseLocalpart(s); err != nil || string(lp) != s {
			t.Fatalf("ValidMailboxName accepts %q, but ParseLocalpart gives %q, %v", s, lp, err)
		}
	})
}
