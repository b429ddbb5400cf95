package delivery

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSRS(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s := NewSRS([]byte("0123456789abcdef0123456789abcdef"), func() time.Time { return now })
	f := s.Forward("John.Doe", "remote.test", "example.test")
	if !strings.HasPrefix(f, "SRS0=") || !strings.HasSuffix(f, "=remote.test=John.Doe@example.test") {
		t.Fatalf("Forward = %q", f)
	}
	local := f[:strings.LastIndexByte(f, '@')]
	for _, in := range []string{local, strings.ToLower(local), strings.ToUpper(local)} {
		l, d, err := s.Reverse(in)
		if err != nil || !strings.EqualFold(l, "John.Doe") || !strings.EqualFold(d, "remote.test") {
			t.Errorf("Reverse(%q) = %q, %q, %v", in, l, d, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"john", ErrNotSRS},
		{"SRS1=x=y==z", ErrNotSRS},
		{"SRS0=aaaaaaaa" + local[13:], ErrSRSInvalid},
		{strings.Replace(local, "remote.test", "other.test", 1), ErrSRSInvalid},
		{"SRS0=broken", ErrSRSInvalid},
	} {
		if _, _, err := s.Reverse(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("Reverse(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
	// Valid for 30 days, across the 1024-day wrap of the timestamp.
	for _, tc := range []struct {
		days int
		ok   bool
	}{{0, true}, {30, true}, {31, false}, {500, false}} {
		later := NewSRS(s.secret, func() time.Time { return now.Add(time.Duration(tc.days) * 24 * time.Hour) })
		_, _, err := later.Reverse(local)
		if (err == nil) != tc.ok {
			t.Errorf("after %d days: %v", tc.days, err)
		}
	}
	other := NewSRS([]byte("another secret, another server!!"), func() time.Time { return now })
	if _, _, err := other.Reverse(local); !errors.Is(err, ErrSRSInvalid) {
		t.Errorf("another secret reversed our address")
	}
}
