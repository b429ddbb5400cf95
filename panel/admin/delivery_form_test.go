package admin

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"30s", 30 * time.Second, true},
		{"10m", 10 * time.Minute, true},
		{"1h20m", 80 * time.Minute, true},
		{"5d", 5 * 24 * time.Hour, true},
		{"1D 12H", 36 * time.Hour, true},
		{"2h40m30s", 2*time.Hour + 40*time.Minute + 30*time.Second, true},
		{"5", 0, false},
		{"5 days", 0, false},
		{"1.5h", 0, false},
		{"-1h", 0, false},
		{"h", 0, false},
		{"1234567h", 0, false},
		{"1w", 0, false},
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 30 * time.Second, 80 * time.Minute, 4 * time.Hour, 5 * 24 * time.Hour,
		36*time.Hour + 90*time.Second} {
		s := formatDuration(d)
		back, err := parseDuration(s)
		if err != nil || back != d {
			t.Errorf("formatDuration(%v) = %q, read back as %v, %v", d, s, back, err)
		}
	}
	if got := formatDuration(80 * time.Minute); got != "1h20m" {
		t.Errorf("80 minutes: %q", got)
	}
}
