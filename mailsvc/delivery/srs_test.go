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
		for _, dom := range []string{"example.test", "EXAMPLE.test"} {
			l, d, err := s.Reverse(in, dom)
			if err != nil || !strings.EqualFold(l, "John.Doe") || !strings.EqualFold(d, "remote.test") {
				t.Errorf("Reverse(%q, %q) = %q, %q, %v", in, dom, l, d, err)
			}
		}
	}
	for _, tc := range []struct {
		in, dom string
		want    error
	}{
		{"john", "example.test", ErrNotSRS},
		{"SRS1=x=y==z", "example.test", ErrNotSRS},
		{"SRS0=aaaaaaaa" + local[13:], "example.test", ErrSRSInvalid},
		{strings.Replace(local, "remote.test", "other.test", 1), "example.test", ErrSRSInvalid},
		{"SRS0=broken", "example.test", ErrSRSInvalid},
		// Valid only under the domain that wrote it: another hosted
		// domain can't be used to bounce it on.
		{local, "other-hosted.test", ErrSRSInvalid},
		{local, "", ErrSRSInvalid},
	} {
		if _, _, err := s.Reverse(tc.in, tc.dom); !errors.Is(err, tc.want) {
			t.Errorf("Reverse(%q, %q) = %v, want %v", tc.in, tc.dom, err, tc.want)
		}
	}
	// Valid for 21 days, across the 1024-day wrap of the timestamp.
	for _, tc := range []struct {
		days int
		ok   bool
	}{{0, true}, {21, true}, {22, false}, {30, false}, {500, false}} {
		later := NewSRS(s.secret, func() time.Time { return now.Add(time.Duration(tc.days) * 24 * time.Hour) })
		_, _, err := later.Reverse(local, "example.test")
		if (err == nil) != tc.ok {
			t.Errorf("after %d days: %v", tc.days, err)
		}
	}
	other := NewSRS([]byte("another secret, another server!!"), func() time.Time { return now })
	if _, _, err := other.Reverse(local, "example.test"); !errors.Is(err, ErrSRSInvalid) {
		t.Errorf("another secret reversed our address")
	}
}
