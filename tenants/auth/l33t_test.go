package auth

import (
	"math/rand/v2"
	"strings"
	"testing"

	zxcvbn "github.com/ccojocar/zxcvbn-go"
	"github.com/ccojocar/zxcvbn-go/match"
	"github.com/ccojocar/zxcvbn-go/matching"
)

// TestL33tMatchesSameAsPort checks l33tMatches against the port's own l33t
// matcher, and zxcvbnStrength against zxcvbn.PasswordStrength, on l33t
// spellings of words and on random text rich in l33t symbols: the same
// distinct matches, the same entropy, the same score.
func TestL33tMatchesSameAsPort(t *testing.T) {
	pws := []string{
		"P@ssw0rd2024!", "p4$$w0rd", "h3ll0w0rld", "7r0ub4d0r&3", "|1|1|1|1", "!1|7+",
		"Tr0ub4dor&3", "5umm3r2024!!", "j0hn.5m1th1985", "4@8({[<3|1!$5+7%2", "Adm1n!Bar#2026xq",
		"m0nk3y$#@!", "(h33$3(ak3", "6r4n6e", "9r4p3", "8a5eb4ll", "%ray", "2ebra", "1ov3", "pa55w0rd",
		"PASSW0RD", "L337sp34k", "b4$3b4ll", "Sécurité2026!ß", "пароль123456пароль", "İst4nbul",
		strings.Repeat("4@8({[<3|1!$5+7%2", 3)[:48],
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "4@8({[<3|1!$5+7%2690aeiolstxzbcgSPWD#&. "
	for range 300 {
		b := make([]byte, 6+rng.IntN(14))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		pws = append(pws, string(b))
	}
	onlyL33t := func(m match.Matcher) bool { return m.ID != matching.L33TMatcherName }
	for _, pw := range pws {
		want := map[match.Match]bool{}
		for _, m := range matching.Omnimatch(pw, nil, onlyL33t) {
			want[m] = true
		}
		got := map[match.Match]bool{}
		for _, m := range l33tMatches(pw) {
			if got[m] {
				t.Errorf("%q: match %+v twice", pw, m)
			}
			got[m] = true
		}
		for m := range want {
			if !got[m] {
				t.Errorf("%q: missing %+v", pw, m)
			}
		}
		for m := range got {
			if !want[m] {
				t.Errorf("%q: extra %+v", pw, m)
			}
		}
		inputs := zxcvbnInputs([]string{"jane", "example.test", "Jane Doe"})
		w, g := zxcvbn.PasswordStrength(pw, inputs), zxcvbnStrength(pw, inputs)
		if w.Entropy != g.Entropy || w.Score != g.Score {
			t.Errorf("%q: entropy %v score %d, the port says %v and %d", pw, g.Entropy, g.Score, w.Entropy, w.Score)
		}
	}
}
