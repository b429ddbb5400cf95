package tenants

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkText refuses values that would break a mail header or a log line
// (CR, LF and other control characters), invalid UTF-8, and values over max
// characters.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid(field, "is too long (%d characters, at most %d)", n, max)
	}
	for _, r := range v {
		if r == '\r' || r == '\n' {
			return invalid(field, "must be on one line")
		}
		if unicode.IsControl(r) {
			return invalid(field, "contains a control character")
		}
	}
	return nil
}

// checkBody allows line breaks and tabs but no other control characters.
func checkBody(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if len(v) > max {
		return invalid(field, "is too long (%d bytes, at most %d)", len(v), max)
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\r' && r != '\n' && r != '\t' {
			return invalid(field, "contains a control character")
		}
	}
	return nil
}

// ParseSize reads a size such as "1G", "500M", "750k", "1.5G" or a plain
// number of bytes. Units are binary (1G is 2^30 bytes), as Dovecot and
// Postfix users expect; go-humanize reads G as 10^9, hence this small parser.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("size %q: use a number of bytes or one with K, M, G or T", s)
	}
	return int64(f * float64(mult)), nil
}

// FormatSize writes bytes the way ParseSize reads them.
func FormatSize(n int64) string {
	switch {
	case n == 0:
		return "0"
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "G"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}
