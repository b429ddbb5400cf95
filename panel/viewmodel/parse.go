package viewmodel

import (
	"strings"
	"time"

	"github.com/postdesk/postdesk/tenants"
)

// ParseDate reads a date input (YYYY-MM-DD, midnight UTC) or an RFC 3339
// timestamp; empty gives nil.
func ParseDate(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, &tenants.ValidationError{Message: "use a date such as 2026-12-24"}
	}
	return &t, nil
}

// SplitList splits a list typed in a text area: spaces, commas,
// semicolons and line breaks separate.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == ',' || r == ';' || r == '\n' || r == '\r' || r == '\t'
	})
}
