package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postdesk/postdesk/tenants"
)

// optBool is a boolean flag that remembers whether it was given, so that
// "set" commands change only what the user named.
type optBool struct {
	set bool
	v   bool
}

func newOptBool(fs *flag.FlagSet, name, usage string) *optBool {
	o := &optBool{}
	fs.BoolFunc(name, usage, func(s string) error {
		b, err := parseBool(s)
		if err != nil {
			return err
		}
		o.set, o.v = true, b
		return nil
	})
	return o
}

func (o *optBool) ptr() *bool {
	if !o.set {
		return nil
	}
	return &o.v
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// parseDate reads an RFC 3339 date ("2026-12-24", midnight UTC) or full
// timestamp.
func parseDate(s string) (time.Time, error) { return parseWith(tenants.ParseDate, s) }

// parseEnd reads the end of a period: a date alone means through that day.
func parseEnd(s string) (time.Time, error) { return parseWith(tenants.ParseEnd, s) }

func parseWith(parse func(string) (*time.Time, error), s string) (time.Time, error) {
	t, err := parse(s)
	if err != nil || t == nil {
		return time.Time{}, fmt.Errorf("date %q: use RFC 3339, e.g. 2026-12-24 or 2026-12-24T08:00:00Z", s)
	}
	return *t, nil
}

// readPassword reads one line from r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 4096 {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
	}
	return strings.TrimSuffix(b.String(), "\r"), nil
}
