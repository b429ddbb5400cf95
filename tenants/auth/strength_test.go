package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckStrength(t *testing.T) {
	tests := []struct {
		name     string
		password string
		inputs   []string
		reason   string // "" for a strong password, else a part of the Reason
	}{
		// Strong.
		{"random symbols", "Xk9#mq2!pLw7z", nil, ""},
		{"admin style", "Adm1n!Bar#2026xq", nil, ""},
		{"passphrase", "correct horse battery staple", nil, ""},
		{"random 20", "ZiCnsg2Pd#yVBSQ!rgX8", nil, ""},
		{"non-Latin", "Sécurité2026!ß", nil, ""},
		{"with unrelated inputs", "Xk9#mq2!pLw7z", []string{"jane", "example.test", "Jane Doe"}, ""},
		{"short input inside", "Xk9#mq2!pLw7zal", []string{"al"}, ""},
		{"empty inputs", "Xk9#mq2!pLw7z", []string{"", "  "}, ""},
		{"exactly 256 bytes", strings.Repeat("Xk9#mq2!pLw7z", 19) + "Xk9#mq2!p", nil, ""},
		{"long l33t", strings.Repeat("4@8({[<3|1!$5+7%2", 15), nil, ""},

		// Length.
		{"empty", "", nil, "too short"},
		{"password", "password", nil, "too short"},
		{"9 characters", "Xk9#mq2!p", nil, "too short"},
		{"9 characters of 2 bytes", "ééééééééé", nil, "too short"},
		{"257 bytes", strings.Repeat("Xk9#mq2!pLw7z", 19) + "Xk9#mq2!pL", nil, "too long"},

		// Characters.
		{"tab", "Xk9#mq2!\tpLw7z", nil, "control characters"},
		{"newline", "Xk9#mq2!pLw7z\n", nil, "control characters"},
		{"NUL", "Xk9#mq2\x00!pLw7z", nil, "control characters"},
		{"DEL", "Xk9#mq2\x7f!pLw7z", nil, "control characters"},
		{"C1 control", "Xk9#mq2\u0085!pLw7z", nil, "control characters"},
		{"invalid UTF-8", "Xk9#mq2\xff!pLw7z", nil, "not text"},

		// User inputs.
		{"domain and digits", "example.test1234", []string{"example.test"}, "must not contain your"},
		{"equals input", "Xk9#mq2!pLw7z", []string{"xk9#mq2!plw7z"}, "must not contain your"},
		{"equals short input", "abcdefghij", []string{"ABCDEFGHIJ"}, "must not contain your"},
		{"contains local part", "jane.doe!Qx93#kw", []string{"jane.doe", "example.test"}, "must not contain your"},
		{"contains full name", "!!MaryAnn Smith!!", []string{"maryann smith"}, "must not contain your"},
		{"input with spaces", "Xk9#postmaster", []string{" Postmaster "}, "must not contain your"},

		// zxcvbn.
		{"Password123", "Password123", nil, "similar to a commonly used password"},
		{"qwertyuiop", "qwertyuiop", nil, "very common password"},
		{"repeat", "aaaaaaaaaaaa", nil, `Repeats like "aaa"`},
		{"sequence", "abcdefghijkl", nil, "Sequences like abc"},
		{"digits", "12345678901", nil, "Sequences like abc"},
		{"leet password", "P@ssw0rd2024!", nil, "similar to a commonly used password"},
		{"sequence after words", "iloveyou12345", nil, "Sequences like abc"},
		{"season", "Summer2024!!", nil, "commonly used password"},
		{"names", "john.smith1985", nil, "names and surnames"},
		{"no specific warning", "01/02/1990abc", nil, "The password is easy to guess."},
		// Words of the inputs go to zxcvbn's user dictionary.
		{"word of an input, twice", "examplexample", []string{"Example Corp"}, "must not contain your"},
		{"words of a full name", "JaneDoe!2026", []string{"Jane Doe"}, "must not contain your"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckStrength(tt.password, tt.inputs...)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckStrength(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			var we *WeakPasswordError
			if !errors.As(err, &we) {
				t.Fatalf("CheckStrength(%q) = %v, want *WeakPasswordError", tt.password, err)
			}
			if we.Reason == "" || we.Error() != we.Reason {
				t.Errorf("Reason %q, Error() %q", we.Reason, we.Error())
			}
			if !strings.Contains(strings.ToLower(we.Reason), strings.ToLower(tt.reason)) {
				t.Errorf("Reason %q, want it to contain %q", we.Reason, tt.reason)
			}
			if !strings.HasSuffix(we.Reason, ".") || strings.ToUpper(we.Reason[:1]) != we.Reason[:1] {
				t.Errorf("Reason %q is not a sentence", we.Reason)
			}
		})
	}
}

func TestCheckStrengthNoPanic(t *testing.T) {
	// Odd input of every kind must give nil or a *WeakPasswordError.
	inputs := []string{
		strings.Repeat("é", 128),
		strings.Repeat("😀", 64),
		"пароль123456пароль",
		"\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b",
		strings.Repeat("\xff", 20),
		"Ab1!" + strings.Repeat("ü", 80),
	}
	for _, pw := range inputs {
		err := CheckStrength(pw, "é", "😀", "")
		var we *WeakPasswordError
		if err != nil && !errors.As(err, &we) {
			t.Errorf("CheckStrength(%q) = %v", pw, err)
		}
	}
}

// BenchmarkCheckStrengthWorstCase measures the slowest input known for the
// zxcvbn port, a long run of l33t symbols; zxcvbnMaxRunes bounds it, and
// l33tMatches takes it from 0.15 s to about 1 ms on a two-core server.
func BenchmarkCheckStrengthWorstCase(b *testing.B) {
	pw := strings.Repeat("4@8({[<3|1!$5+7%2", 15)
	for b.Loop() {
		CheckStrength(pw)
	}
}
