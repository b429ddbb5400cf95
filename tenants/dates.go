package tenants

import (
	"strings"
	"time"
)

// ParseDate reads a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time,
// as the panel, the API and the CLI take them; empty gives nil.
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
		return nil, &ValidationError{Message: "use a date such as 2026-12-24 or a time such as 2026-12-24T08:00:00Z"}
	}
	return &t, nil
}

// ParseEnd reads the end of a period (a responder's "until"): a date
// alone means through that day, so the period ends at the next midnight
// UTC; an RFC 3339 time is the end itself.
func ParseEnd(s string) (*time.Time, error) {
	t, err := ParseDate(s)
	if err != nil || t == nil {
		return t, err
	}
	if _, err := time.Parse(time.DateOnly, strings.TrimSpace(s)); err == nil {
		end := t.AddDate(0, 0, 1)
		return &end, nil
	}
	return t, nil
}
