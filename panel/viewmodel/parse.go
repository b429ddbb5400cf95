package viewmodel

import (
	"strings"
)

// SplitList splits a list typed in a text area: spaces, commas,
// semicolons and line breaks separate.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == ',' || r == ';' || r == '\n' || r == '\r' || r == '\t'
	})
}
