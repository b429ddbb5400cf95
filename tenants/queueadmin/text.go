package queueadmin

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// How the Delivery Options are typed, in the panel's form, on the command
// line and in the API alike: durations as whole numbers with units (5d,
// 1h20m, 30s) and hosts as HOST[:PORT]. The rules on the values themselves
// are the queue's; these only read and write the text.

// ParseDuration reads a duration typed as whole numbers with units d, h, m
// and s, such as 5d, 1h20m or 30s; "0" and "" are zero.
func ParseDuration(s string) (time.Duration, error) {
	bad := errors.New("use a duration such as 30s, 10m, 4h or 5d")
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	if s == "" || s == "0" {
		return 0, nil
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 || i == len(s) {
			return 0, bad
		}
		n, _ := strconv.Atoi(s[:i])
		var unit time.Duration
		switch s[i] {
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		case 's':
			unit = time.Second
		default:
			return 0, bad
		}
		total += time.Duration(n) * unit
		s = s[i+1:]
	}
	return total, nil
}

// FormatDuration writes a duration as ParseDuration reads it: 5d, 1h20m,
// 30s.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	if b.Len() == 0 {
		return d.String() // below a second: not typed in the form
	}
	return b.String()
}

// ParsePort reads a port; empty is 0, the default port. The range is the
// queue's rule.
func ParsePort(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New("give a port number from 1 to 65535")
	}
	return n, nil
}

// ParseHostPort reads HOST, HOST:PORT, an IPv6 address, or [IPv6]:PORT.
func ParseHostPort(s string) (host string, port int, err error) {
	s = strings.TrimSpace(s)
	if h, p, err := net.SplitHostPort(s); err == nil {
		port, err := ParsePort(p)
		if err != nil || p == "" {
			return "", 0, errors.New("give a port number from 1 to 65535 after the colon")
		}
		return h, port, nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return s[1 : len(s)-1], 0, nil
	}
	if strings.Count(s, ":") == 1 {
		return "", 0, errors.New("give HOST or HOST:PORT")
	}
	return s, 0, nil
}

// FormatHostPort writes a host and port as ParseHostPort reads them; port
// 0 (the default) is left out.
func FormatHostPort(host string, port int) string {
	if port == 0 {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
