package queue

import (
	"strings"
	"testing"
)

// TestCheckSender: the queue takes what MAIL FROM takes, and SRS senders
// (forwards, rewritten by delivery) with local parts past 64 octets up to
// 256; nothing else past the limits. Before, a forward of mail from a long
// address failed its whole delivery with a 451, again at every retry.
func TestCheckSender(t *testing.T) {
	dom := strings.Repeat("d", 60) + ".test"
	srs := func(n int) string {
		l := "SRS0=abcdefgh=ab=remote.test="
		return l + strings.Repeat("x", n-len(l)) + "@example.test"
	}
	for _, tc := range []struct {
		from string
		ok   bool
	}{
		{"", true},
		{"john@example.test", true},
		{strings.Repeat("l", 64) + "@example.test", true},
		{srs(65), true},
		{srs(256), true},
		{strings.ToLower(srs(200)), true},
		{"SRS1=abcdefgh=forwarder.test==ab=" + dom + "=" + strings.Repeat("y", 100) + "@example.test", true},
		{srs(257), false},
		{strings.Repeat("l", 65) + "@example.test", false},          // not SRS
		{"SRS0=" + strings.Repeat("x", 100) + "@bad_domain", false}, // the domain as ever
		{"SRS0=" + strings.Repeat("x", 100) + "..y@example.test", false},
		{"SRS0=" + strings.Repeat("x", 100) + " y@example.test", false},
		{"SRS0=" + strings.Repeat("x", 100) + "\r\ny@example.test", false},
		{"SRS0=" + strings.Repeat("x", 100), false},
	} {
		err := checkSender(tc.from)
		if (err == nil) != tc.ok {
			t.Errorf("checkSender(%q) = %v, want ok %t", tc.from, err, tc.ok)
		}
	}
}
