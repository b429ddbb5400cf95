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
	f := s.Forward("John.Doe", "remote.test", "example.test", 42)
	if !strings.HasPrefix(f, "SRS0=") || !strings.HasSuffix(f, "=remote.test=John.Doe@example.test") {
		t.Fatalf("Forward = %q", f)
	}
	local := f[:strings.LastIndexByte(f, '@')]
	for _, in := range []string{local, strings.ToLower(local), strings.ToUpper(local)} {
		for _, dom := range []string{"example.test", "EXAMPLE.test"} {
			l, d, id, err := s.Reverse(in, dom)
			if err != nil || !strings.EqualFold(l, "John.Doe") || !strings.EqualFold(d, "remote.test") || id != 42 {
				t.Errorf("Reverse(%q, %q) = %q, %q, %d, %v", in, dom, l, d, id, err)
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
		// The forwarding mailbox's id is under the MAC: another id, or
		// none (an address of the format before ids), fails.
		{strings.Replace(local, local[5:15], local[5:13]+"1b", 1), "example.test", ErrSRSInvalid},
		{strings.Replace(local, local[5:15], local[5:13]+"1", 1), "example.test", ErrSRSInvalid},
		{strings.Replace(local, local[5:15], local[5:13], 1), "example.test", ErrSRSInvalid},
	} {
		if _, _, _, err := s.Reverse(tc.in, tc.dom); !errors.Is(err, tc.want) {
			t.Errorf("Reverse(%q, %q) = %v, want %v", tc.in, tc.dom, err, tc.want)
		}
	}
	if !strings.HasPrefix(local[13:], "1a=") {
		t.Errorf("Forward = %q: the id 42 is not after the MAC in base 32", f)
	}
	// Valid for 7 days, across the 1024-day wrap of the timestamp.
	for _, tc := range []struct {
		days int
		ok   bool
	}{{0, true}, {7, true}, {8, false}, {30, false}, {500, false}} {
		later := NewSRS(s.secret, func() time.Time { return now.Add(time.Duration(tc.days) * 24 * time.Hour) })
		_, _, _, err := later.Reverse(local, "example.test")
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrSRSExpired)) {
			t.Errorf("after %d days: %v", tc.days, err)
		}
	}
	other := NewSRS([]byte("another secret, another server!!"), func() time.Time { return now })
	if _, _, _, err := other.Reverse(local, "example.test"); !errors.Is(err, ErrSRSInvalid) {
		t.Errorf("another secret reversed our address")
	}
}
