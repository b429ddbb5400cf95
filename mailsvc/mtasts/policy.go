// Package mtasts finds the MTA-STS policy of a domain mail is sent to (RFC
// 8461): the _mta-sts TXT record through the one resolver (mailsvc/dnsres),
// then the policy fetched over HTTPS from mta-sts.DOMAIN with a verified
// certificate, a size limit and a time limit, kept in the database for its
// max_age so that every process sharing the database uses one copy. The
// outbound queue (mailsvc/queue) applies what it returns.
package mtasts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Modes of a policy (RFC 8461 3.2).
const (
	ModeEnforce = "enforce"
	ModeTesting = "testing"
	ModeNone    = "none"
)

// maxMaxAge is the largest max_age a policy may give: one year (RFC 8461
// 3.2).
const maxMaxAge = 31557600

// Policy is a domain's MTA-STS policy.
type Policy struct {
	// ID is the id of the TXT record the policy was fetched under.
	ID     string
	Mode   string
	MX     []string // patterns: "mx.example.org", "*.example.org"
	MaxAge time.Duration
}

// ParseRecord reads a _mta-sts TXT record (RFC 8461 3.1): "v=STSv1;
// id=20160831085700Z;". It returns the id; an error when the record is not
// an MTA-STS record or has no valid id.
func ParseRecord(txt string) (string, error) {
	fields := strings.Split(txt, ";")
	if strings.TrimSpace(fields[0]) != "v=STSv1" {
		return "", errors.New("not an STSv1 record")
	}
	id := ""
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			continue
		}
		if k == "id" && id == "" {
			id = v
		}
	}
	if id == "" || len(id) > 32 || !isAlnum(id) {
		return "", errors.New("the record has no valid id")
	}
	return id, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// ParsePolicy reads a policy file (RFC 8461 3.2): "key: value" lines ended
// by LF or CRLF. version, mode and max_age are required, and mx unless the
// mode is none; unknown keys are ignored.
func ParsePolicy(text string) (*Policy, error) {
	p := &Policy{}
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("policy line %q has no colon", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k != "mx" && seen[k] {
			// Only the first of a key counts (RFC 8461 3.2).
			continue
		}
		seen[k] = true
		switch k {
		case "version":
			if v != "STSv1" {
				return nil, fmt.Errorf("policy version %q is not STSv1", v)
			}
		case "mode":
			switch v {
			case ModeEnforce, ModeTesting, ModeNone:
				p.Mode = v
			default:
				return nil, fmt.Errorf("policy mode %q is not enforce, testing or none", v)
			}
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > maxMaxAge || len(v) > 10 {
				return nil, fmt.Errorf("policy max_age %q is not a number of seconds up to %d", v, maxMaxAge)
			}
			p.MaxAge = time.Duration(n) * time.Second
		case "mx":
			if v == "" {
				return nil, errors.New("policy has an empty mx")
			}
			p.MX = append(p.MX, strings.ToLower(strings.TrimSuffix(v, ".")))
		}
	}
	switch {
	case !seen["version"]:
		return nil, errors.New("policy has no version")
	case p.Mode == "":
		return nil, errors.New("policy has no mode")
	case !seen["max_age"]:
		return nil, errors.New("policy has no max_age")
	case p.Mode != ModeNone && len(p.MX) == 0:
		return nil, errors.New("policy lists no mx")
	}
	return p, nil
}

// AllowsMX reports whether host (an MX host name) matches one of the
// policy's mx patterns (RFC 8461 4.1): exactly, or "*.example.org"
// matching one label in place of the star.
func (p *Policy) AllowsMX(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if rest, ok := strings.CutPrefix(pat, "*."); ok {
			label, parent, found := strings.Cut(host, ".")
			if found && label != "" && parent == rest {
				return true
			}
			continue
		}
		if pat == host {
			return true
		}
	}
	return false
}
