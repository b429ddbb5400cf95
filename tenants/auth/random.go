package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// Random passwords, e.g. for the first administrator, are 20 characters
// from an alphabet without look-alikes (no 0/O, 1/l/I) and with eight
// symbols found on common keyboard layouts, none of them a quote, comma,
// backslash or space: 65 characters, about 120 bits.
const (
	randomPasswordLen = 20
	randomLower       = "abcdefghijkmnopqrstuvwxyz"
	randomUpper       = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	randomDigits      = "23456789"
	randomSymbols     = "#%+-=?@_"
	randomAlphabet    = randomLower + randomUpper + randomDigits + randomSymbols
)

// RandomPassword returns a strong random password: 20 characters from an
// unambiguous alphabet, with at least one lower-case and one upper-case
// letter, one digit and one symbol, that passes CheckStrength.
func RandomPassword() (string, error) {
	// Draws that miss a class or fail CheckStrength are redrawn. About
	// one draw in seven misses a class, so 100 draws never all fail in
	// practice.
	for range 100 {
		pw, err := randomString(randomPasswordLen, randomAlphabet)
		if err != nil {
			return "", fmt.Errorf("random password: %w", err)
		}
		if hasEachClass(pw) && CheckStrength(pw) == nil {
			return pw, nil
		}
	}
	return "", errors.New("random password: no draw passed the strength check")
}

// randomString returns n characters of alphabet (at most 256 long) drawn
// uniformly with crypto/rand, rejecting bytes that would bias the draw.
func randomString(n int, alphabet string) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

func hasEachClass(pw string) bool {
	for _, class := range []string{randomLower, randomUpper, randomDigits, randomSymbols} {
		if !strings.ContainsAny(pw, class) {
			return false
		}
	}
	return true
}
