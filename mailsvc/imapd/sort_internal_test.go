package imapd

import "testing"

// TestBaseSubject: RFC 5256 2.1's base subject, and whether the subject
// was a reply's or forward's.
func TestBaseSubject(t *testing.T) {
	for _, c := range []struct {
		in, base string
		reply    bool
	}{
		{"", "", false},
		{"  hello   world ", "hello world", false},
		{"Re: hello", "hello", true},
		{"RE:hello", "hello", true},
		{"Re : Re: Fwd: hello", "hello", true},
		{"Re[2]: hello", "hello", true},
		{"[list] Re: hello", "hello", true},
		{"[list] hello", "hello", false},
		{"[xyz]", "[xyz]", false},
		{"hello (fwd)", "hello", true},
		{"hello (a)", "hello (a)", false},
		{"[Fwd: hello]", "hello", true},
		{"re: [fwd: [fwd: re: [fwd: babylon]]]", "babylon", true},
		{"[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b", true},
		{"Ad: Re: Ad: x", "Ad: Re: Ad: x", false},
		{"really: hello", "really: hello", false},
		{"fwd hello", "fwd hello", false},
		{"Re:\t\tfolded\r\n line", "folded line", true},
	} {
		base, reply := baseSubject(c.in)
		if base != c.base || reply != c.reply {
			t.Errorf("baseSubject(%q) = %q, %v; want %q, %v", c.in, base, reply, c.base, c.reply)
		}
	}
}
