package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ccojocar/zxcvbn-go/match"
)

// The password-strength rule for new passwords.
const (
	// MinPasswordChars is the least number of characters (not bytes) a
	// new password must have.
	MinPasswordChars = 10
	// MaxPasswordBytes is the most bytes a new password may have.
	MaxPasswordBytes = 256
	// MinZxcvbnScore is the least zxcvbn score (0-4) a new password must
	// reach: 3 means "safely unguessable", about 10^8 guesses.
	MinZxcvbnScore = 3
)

// zxcvbnMaxRunes bounds the part of a password zxcvbn judges: the port's
// dictionary matchers look up every substring, so their time grows with the
// square of the length (its l33t matcher, replaced by l33tMatches, took 16 s
// for 256 symbols on a two-core server and 0.15 s for 48). The
// estimate grows with length, so judging the prefix only errs when a weak
// prefix is followed by a strong tail, and 48 characters too patterned to
// reach score 3 (about 34 bits in this port) are reason enough to refuse the
// whole.
const zxcvbnMaxRunes = 48

// minContainedInput is the least length of a user input that the password
// must not contain; shorter inputs ("al", "bo") would refuse passwords by
// accident, so they are only refused as the whole password, and otherwise
// left to zxcvbn.
const minContainedInput = 4

// WeakPasswordError is the error of CheckStrength. Reason is a sentence for
// the user.
type WeakPasswordError struct{ Reason string }

func (e *WeakPasswordError) Error() string { return e.Reason }

func weak(reason string) error { return &WeakPasswordError{Reason: reason} }

// CheckStrength returns nil or a *WeakPasswordError whose Reason is a
// sentence for the user: too short (minimum 10 characters), too long (over 256
// bytes), contains control characters (or is not valid UTF-8), equals or
// contains one of the user inputs (e.g. the local part, the domain, the full
// name; compared case-insensitively), or a zxcvbn score below 3 (giving
// zxcvbn's feedback warning when it has one, else "easy to guess").
//
// The user inputs are also given to zxcvbn, with their words, so that a
// password built from them scores low.
func CheckStrength(password string, userInputs ...string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordChars:
		return weak("The password is too short: use at least 10 characters.")
	case len(password) > MaxPasswordBytes:
		return weak("The password is too long: use at most 256 bytes.")
	case !utf8.ValidString(password):
		return weak("The password contains bytes that are not text.")
	case strings.IndexFunc(password, unicode.IsControl) >= 0:
		return weak("The password must not contain control characters such as tabs or line breaks.")
	case containsInput(password, userInputs):
		return weak("The password must not contain your name, address or domain.")
	}

	judged := password
	if utf8.RuneCountInString(judged) > zxcvbnMaxRunes {
		judged = string([]rune(judged)[:zxcvbnMaxRunes])
	}
	r := zxcvbnStrength(judged, zxcvbnInputs(userInputs))
	if r.Score >= MinZxcvbnScore {
		return nil
	}
	if w := zxcvbnWarning(r.MatchSequence); w != "" {
		return weak(w)
	}
	return weak("The password is easy to guess.")
}

// containsInput reports whether password equals one of inputs or contains
// one of at least minContainedInput characters, ignoring case.
func containsInput(password string, inputs []string) bool {
	pw := strings.ToLower(password)
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		if pw == in || utf8.RuneCountInString(in) >= minContainedInput && strings.Contains(pw, in) {
			return true
		}
	}
	return false
}

// zxcvbnInputs returns the user inputs and their words (split at anything
// but letters and digits) of at least three characters, for zxcvbn's user
// dictionary: "Jane Doe" gives "jane doe", "jane" and "doe".
func zxcvbnInputs(inputs []string) []string {
	var out []string
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		out = append(out, in)
		words := strings.FieldsFunc(in, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for _, w := range words {
			if w != in && utf8.RuneCountInString(w) >= 3 {
				out = append(out, w)
			}
		}
	}
	return out
}

// zxcvbnWarning returns a warning about the longest match, as zxcvbn's
// feedback does (feedback.coffee in dropbox/zxcvbn 4.4.2, whose sentences
// these are). The Go port computes the score only, so this glue restates the
// part of the feedback that needs nothing but the match sequence.
func zxcvbnWarning(seq []match.Match) string {
	if len(seq) == 0 {
		return ""
	}
	longest := seq[0]
	for _, m := range seq[1:] {
		if len(m.Token) > len(longest.Token) {
			longest = m
		}
	}
	sole := len(seq) == 1
	switch longest.Pattern {
	case "dictionary":
		dict, l33t := strings.CutSuffix(longest.DictionaryName, "_3117")
		switch dict {
		case "Passwords":
			if sole && !l33t {
				return "This is a very common password."
			}
			return "This is similar to a commonly used password."
		case "English":
			if sole {
				return "A word by itself is easy to guess."
			}
		case "MaleNames", "FemaleNames", "Surname":
			if sole {
				return "Names and surnames by themselves are easy to guess."
			}
			return "Common names and surnames are easy to guess."
		case "user_inputs":
			return "The password must not contain your name, address or domain."
		}
	case "spatial":
		return "Keyboard patterns like qwerty are easy to guess."
	case "repeat":
		return `Repeats like "aaa" are easy to guess.`
	case "sequence":
		return "Sequences like abc or 6543 are easy to guess."
	case "date":
		return "Dates are often easy to guess."
	}
	return ""
}
