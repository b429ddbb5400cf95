package auth

import (
	"strings"
	"testing"
)

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw, err := RandomPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 {
			t.Fatalf("%q: %d characters, want 20", pw, len(pw))
		}
		for _, c := range pw {
			if !strings.ContainsRune(randomAlphabet, c) || strings.ContainsRune("0O1lI", c) {
				t.Fatalf("%q: character %q outside the unambiguous alphabet", pw, c)
			}
		}
		if !hasEachClass(pw) {
			t.Fatalf("%q lacks a lower-case letter, upper-case letter, digit or symbol", pw)
		}
		if err := CheckStrength(pw); err != nil {
			t.Fatalf("CheckStrength(%q) = %v", pw, err)
		}
		if seen[pw] {
			t.Fatalf("%q drawn twice", pw)
		}
		seen[pw] = true
	}
}

func TestRandomStringUniform(t *testing.T) {
	// Every character of the alphabet appears, none far more often than
	// the others (a loose check against modulo bias and wrong ranges).
	s, err := randomString(65*400, randomAlphabet)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[rune]int{}
	for _, c := range s {
		counts[c]++
	}
	if len(counts) != len(randomAlphabet) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(randomAlphabet))
	}
	for c, n := range counts {
		if n < 250 || n > 550 {
			t.Errorf("%q drawn %d times in %d, expected about 400", c, n, len(s))
		}
	}
}
