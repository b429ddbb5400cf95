// Package clientsetup answers mail clients that set themselves up:
// Thunderbird's autoconfig and Outlook's autodiscover (the POX form and
// the JSON form that points to it). These are routes for clients that are
// not browsers: they sit outside the panel's session and CSRF group, take
// no credentials and tell a stranger only what DNS already tells (the host
// and ports of a domain we serve).
package clientsetup

import (
	"fmt"
	"strconv"
	"strings"
)

// Servers are the host name and ports clients are told to use: the public
// names the admin configured, never the listen addresses (which may sit
// behind NAT or a proxy). A port of 0 is not offered.
type Servers struct {
	Host        string
	IMAPS       int // IMAP over implicit TLS, usually 993
	IMAP        int // IMAP with STARTTLS, usually 143
	Submissions int // submission over implicit TLS, usually 465
	Submission  int // submission with STARTTLS, usually 587
	POP3S       int // POP3 over implicit TLS, usually 995
	POP3        int // POP3 with STLS, usually 110
}

// DefaultPorts is the --public-ports default: the standard ports.
const DefaultPorts = "imaps=993,imap=143,submissions=465,submission=587,pop3s=995,pop3=110"

// ParsePorts reads a --public-ports list ("imaps=993,submission=587,...")
// into s; a protocol left out is not offered. Clients need an IMAP or POP3
// server and a submission server to set themselves up.
func (s *Servers) ParsePorts(list string) error {
	s.IMAPS, s.IMAP, s.Submissions, s.Submission, s.POP3S, s.POP3 = 0, 0, 0, 0, 0, 0
	fields := map[string]*int{"imaps": &s.IMAPS, "imap": &s.IMAP, "submissions": &s.Submissions,
		"submission": &s.Submission, "pop3s": &s.POP3S, "pop3": &s.POP3}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		dst, known := fields[strings.ToLower(strings.TrimSpace(name))]
		if !ok || !known {
			return fmt.Errorf("public ports: %q: give PROTOCOL=PORT with PROTOCOL one of imaps, imap, submissions, submission, pop3s, pop3", item)
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("public ports: %q: give a port number from 1 to 65535", item)
		}
		*dst = n
	}
	if s.IMAPS == 0 && s.IMAP == 0 && s.POP3S == 0 && s.POP3 == 0 {
		return fmt.Errorf("public ports: name an IMAP or POP3 port")
	}
	if s.Submissions == 0 && s.Submission == 0 {
		return fmt.Errorf("public ports: name a submission port")
	}
	return nil
}

// Server is one offered server of a kind.
type Server struct {
	Kind string // imap, pop3, smtp (submission)
	Port int
	TLS  bool // implicit TLS; false: STARTTLS
}

// Offered lists the servers offered, in order of preference: IMAP, POP3,
// then submission, implicit TLS first of each (RFC 8314 3).
func (s Servers) Offered() []Server {
	var out []Server
	for _, c := range []Server{
		{"imap", s.IMAPS, true}, {"imap", s.IMAP, false},
		{"pop3", s.POP3S, true}, {"pop3", s.POP3, false},
		{"smtp", s.Submissions, true}, {"smtp", s.Submission, false},
	} {
		if c.Port != 0 {
			out = append(out, c)
		}
	}
	return out
}
