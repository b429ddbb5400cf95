package queueadmin

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
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 30 * time.Second, 80 * time.Minute, 4 * time.Hour, 5 * 24 * time.Hour,
		36*time.Hour + 90*time.Second} {
		s := FormatDuration(d)
		back, err := ParseDuration(s)
		if err != nil || back != d {
			t.Errorf("FormatDuration(%v) = %q, read back as %v, %v", d, s, back, err)
		}
	}
	if got := FormatDuration(80 * time.Minute); got != "1h20m" {
		t.Errorf("80 minutes: %q", got)
	}
}

func TestParseHostPort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"mx.example.net", "mx.example.net", 0, true},
		{"mx.example.net:2525", "mx.example.net", 2525, true},
		{"127.0.0.1:9", "127.0.0.1", 9, true},
		{"::1", "::1", 0, true},
		{"[::1]", "::1", 0, true},
		{"[::1]:587", "::1", 587, true},
		{"mx.example.net:", "", 0, false},
		{"mx.example.net:smtp", "", 0, false},
	} {
		host, port, err := ParseHostPort(tc.in)
		if (err == nil) != tc.ok || host != tc.host || port != tc.port {
			t.Errorf("ParseHostPort(%q) = %q, %d, %v; want %q, %d, ok %v", tc.in, host, port, err, tc.host, tc.port, tc.ok)
		}
		if tc.ok {
			if h, p, err := ParseHostPort(FormatHostPort(host, port)); err != nil || h != host || p != port {
				t.Errorf("FormatHostPort(%q, %d) = %q, read back as %q, %d, %v", host, port, FormatHostPort(host, port), h, p, err)
			}
		}
	}
}
