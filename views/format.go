package views

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

func itoa(n int) string { return strconv.Itoa(n) }

// Sentence writes a message as a sentence: a capital first letter and a
// full stop. The rules' messages are written in lower case to compose
// ("mailbox: must not be empty"); pages show them as sentences.
func Sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	// A message that starts with a name (an address, a domain, a size)
	// keeps its case.
	first, _, _ := strings.Cut(msg, " ")
	if strings.IndexFunc(first, func(r rune) bool { return !unicode.IsLetter(r) && r != ',' && r != ':' && r != ';' }) < 0 {
		r, n := utf8.DecodeRuneInString(msg)
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	if last, _ := utf8.DecodeLastRuneInString(msg); !strings.ContainsRune(".!?:)”\"", last) {
		msg += "."
	}
	return msg
}
