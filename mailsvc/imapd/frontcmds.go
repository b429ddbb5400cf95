package imapd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
)

// connState is what the front layer and the Session of one connection
// share.
type connState struct {
	front  *frontConn
	remote string
	tls    atomic.Bool
	authed atomic.Bool
	cmd    atomic.Pointer[string]
	sess   *Session
}

func (c *connState) setCommand(name string) { c.cmd.Store(&name) }

// command is the name of the command being run ("UID FETCH" for UID
// commands).
func (c *connState) command() string {
	if p := c.cmd.Load(); p != nil {
		return *p
	}
	return ""
}

// runLocal answers the commands the front layer implements itself; full is
// the whole command, literals included.
func (f *frontConn) runLocal(tag, name string, full []byte) error {
	args, err := parseArgs(full)
	if err != nil {
		f.writeLine(tag + " BAD " + err.Error())
		return nil
	}
	switch name {
	case "STARTTLS":
		switch {
		case len(args) != 0:
			f.writeLine(tag + " BAD STARTTLS takes no arguments")
		case f.srv.cfg.TLS == nil:
			f.writeLine(tag + " NO STARTTLS is not available here")
		case f.cs.tls.Load() || f.cs.authed.Load():
			f.writeLine(tag + " BAD STARTTLS only before logging in, without TLS")
		default:
			return f.startTLS(tag)
		}
	case "ID":
		// RFC 2971: the client's parameters are only logged.
		if len(args) != 1 || (args[0].list == nil && !strings.EqualFold(args[0].s, "NIL")) {
			f.writeLine(tag + " BAD ID takes NIL or a parenthesized list")
			return nil
		}
		if args[0].list != nil {
			var kv []string
			for _, a := range args[0].list {
				kv = append(kv, truncateLog(a.s))
			}
			f.log.Debug("client ID", "id", strings.Join(kv, " "))
		}
		f.writeLine(`* ID ("name" "Postdesk")`)
		f.writeLine(tag + " OK ID completed")
	case "GETQUOTAROOT":
		if len(args) != 1 || args[0].list != nil {
			f.writeLine(tag + " BAD GETQUOTAROOT takes a mailbox name")
			return nil
		}
		name, err := decodeMailbox(args[0].s)
		if err != nil {
			f.writeLine(tag + " BAD Invalid modified UTF-7 in mailbox name")
			return nil
		}
		f.answerQuota(tag, name, true)
	case "GETQUOTA":
		if len(args) != 1 || args[0].list != nil {
			f.writeLine(tag + " BAD GETQUOTA takes a quota root")
			return nil
		}
		if args[0].s != "" {
			f.writeLine(tag + " NO [NONEXISTENT] No such quota root; the one root is \"\"")
			return nil
		}
		f.answerQuota(tag, "", false)
	case "SETQUOTA":
		f.writeLine(tag + " NO [NOPERM] Quotas are set by the domain's postmaster")
	}
	return nil
}

// answerQuota writes QUOTAROOT (for a mailbox) and QUOTA for the one quota
// root, "", of the logged-in mailbox (RFC 9208 4.2, 4.3).
func (f *frontConn) answerQuota(tag, mailbox string, root bool) {
	s := f.cs.sess
	used, limit, err := s.quota(mailbox)
	var ie *imap.Error
	switch {
	case errors.As(err, &ie):
		f.writeLine(tag + " " + statusLine(ie))
		return
	case err != nil:
		s.log.Error("quota", "err", err)
		f.writeLine(tag + " NO [UNAVAILABLE] Temporary failure; try again")
		return
	}
	if root {
		if limit > 0 {
			f.writeLine("* QUOTAROOT " + quoteMailbox(mailbox) + ` ""`)
		} else {
			f.writeLine("* QUOTAROOT " + quoteMailbox(mailbox))
		}
	}
	if limit > 0 {
		// STORAGE is in units of 1024 octets.
		f.writeLine(fmt.Sprintf(`* QUOTA "" (STORAGE %d %d)`, (used+1023)/1024, limit/1024))
	} else if !root {
		f.writeLine(`* QUOTA "" ()`)
	}
	name := "GETQUOTA"
	if root {
		name = "GETQUOTAROOT"
	}
	f.writeLine(tag + " OK " + name + " completed")
}

func truncateLog(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// arg is a parsed argument: a string (atom, quoted or literal) or a list.
type arg struct {
	s    string
	list []arg
}

// parseArgs parses the arguments of a command line whose literals are
// inline ({n}CRLF followed by n bytes).
func parseArgs(full []byte) ([]arg, error) {
	s := strings.TrimSuffix(strings.TrimSuffix(string(full), "\n"), "\r")
	// Skip tag and name.
	for i := 0; i < 2; i++ {
		_, rest, _ := strings.Cut(s, " ")
		s = rest
	}
	p := &argParser{s: s}
	var out []arg
	for p.i < len(p.s) {
		a, err := p.value(0)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		if p.i < len(p.s) {
			if p.s[p.i] != ' ' {
				return nil, errors.New("Syntax error in arguments")
			}
			p.i++
		}
	}
	return out, nil
}

type argParser struct {
	s string
	i int
}

func (p *argParser) value(depth int) (arg, error) {
	if depth > 10 {
		return arg{}, errors.New("Lists nested too deeply")
	}
	if p.i >= len(p.s) {
		return arg{}, errors.New("Missing argument")
	}
	switch c := p.s[p.i]; c {
	case '(':
		p.i++
		l := []arg{}
		for {
			if p.i >= len(p.s) {
				return arg{}, errors.New("Unclosed list")
			}
			if p.s[p.i] == ')' {
				p.i++
				return arg{list: l}, nil
			}
			if len(l) > 0 {
				if p.s[p.i] != ' ' {
					return arg{}, errors.New("Syntax error in list")
				}
				p.i++
			}
			a, err := p.value(depth + 1)
			if err != nil {
				return arg{}, err
			}
			l = append(l, a)
		}
	case '"':
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			c := p.s[p.i]
			switch c {
			case '"':
				p.i++
				return arg{s: b.String()}, nil
			case '\\':
				p.i++
				if p.i >= len(p.s) {
					return arg{}, errors.New("Unclosed string")
				}
				b.WriteByte(p.s[p.i])
			case '\r', '\n', 0:
				return arg{}, errors.New("Invalid character in string")
			default:
				b.WriteByte(c)
			}
		}
		return arg{}, errors.New("Unclosed string")
	case '{':
		end := strings.Index(p.s[p.i:], "}\r\n")
		if end < 0 {
			return arg{}, errors.New("Bad literal")
		}
		num := strings.TrimRight(p.s[p.i+1:p.i+end], "+-")
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || p.i+end+3+n > len(p.s) {
			return arg{}, errors.New("Bad literal")
		}
		start := p.i + end + 3
		p.i = start + n
		return arg{s: p.s[start : start+n]}, nil
	default:
		start := p.i
		for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != ')' && p.s[p.i] != '(' {
			if c := p.s[p.i]; c < 0x20 || c == 0x7f || c == '"' || c == '{' {
				return arg{}, errors.New("Invalid character in atom")
			}
			p.i++
		}
		if p.i == start {
			return arg{}, errors.New("Syntax error in arguments")
		}
		return arg{s: p.s[start:p.i]}, nil
	}
}

// quoteMailbox writes a mailbox name as a quoted string, in modified
// UTF-7 (RFC 3501 5.1.3).
func quoteMailbox(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return strconv.Quote(encodeMailbox(name))
}

// decodeMailbox decodes a mailbox name argument as go-imap does: INBOX in
// any case, otherwise modified UTF-7.
func decodeMailbox(s string) (string, error) {
	if strings.EqualFold(s, "INBOX") {
		return "INBOX", nil
	}
	return decodeUTF7(s)
}

var errUTF7 = errors.New("invalid modified UTF-7")

// decodeUTF7 decodes modified UTF-7 (RFC 3501 5.1.3).
func decodeUTF7(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", errUTF7
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i:], '-')
		if j < 0 {
			return "", errUTF7
		}
		enc := s[i+1 : i+j]
		i += j
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		units, err := decodeB64UTF16(enc)
		if err != nil {
			return "", err
		}
		for k := 0; k < len(units); k++ {
			u := rune(units[k])
			if u >= 0xD800 && u < 0xDC00 {
				if k+1 >= len(units) || units[k+1] < 0xDC00 || units[k+1] >= 0xE000 {
					return "", errUTF7
				}
				u = 0x10000 + (u-0xD800)<<10 + (rune(units[k+1]) - 0xDC00)
				k++
			} else if u >= 0xDC00 && u < 0xE000 {
				return "", errUTF7
			} else if u >= 0x20 && u <= 0x7e {
				// Printable ASCII must not be encoded.
				return "", errUTF7
			}
			b.WriteRune(u)
		}
	}
	return b.String(), nil
}

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

func decodeB64UTF16(s string) ([]uint16, error) {
	var bits, nbits uint32
	var bytesOut []byte
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(b64, s[i])
		if v < 0 {
			return nil, errUTF7
		}
		bits = bits<<6 | uint32(v)
		nbits += 6
		if nbits >= 8 {
			nbits -= 8
			bytesOut = append(bytesOut, byte(bits>>nbits))
			bits &= 1<<nbits - 1
		}
	}
	if bits != 0 || len(bytesOut)%2 != 0 || len(bytesOut) == 0 {
		return nil, errUTF7
	}
	units := make([]uint16, len(bytesOut)/2)
	for i := range units {
		units[i] = uint16(bytesOut[2*i])<<8 | uint16(bytesOut[2*i+1])
	}
	return units, nil
}

// encodeMailbox encodes a name in modified UTF-7.
func encodeMailbox(s string) string {
	var b strings.Builder
	var pending []uint16
	flush := func() {
		if len(pending) == 0 {
			return
		}
		b.WriteByte('&')
		var bits, nbits uint32
		for _, u := range pending {
			for _, by := range []byte{byte(u >> 8), byte(u)} {
				bits = bits<<8 | uint32(by)
				nbits += 8
				for nbits >= 6 {
					nbits -= 6
					b.WriteByte(b64[(bits>>nbits)&63])
				}
			}
		}
		if nbits > 0 {
			b.WriteByte(b64[(bits<<(6-nbits))&63])
		}
		b.WriteByte('-')
		pending = pending[:0]
	}
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(r)
			}
			continue
		}
		if r >= 0x10000 {
			r -= 0x10000
			pending = append(pending, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			pending = append(pending, uint16(r))
		}
	}
	flush()
	return b.String()
}

// statusLine formats an error as the rest of a tagged status response.
func statusLine(e *imap.Error) string {
	if e.Code == "" {
		return string(e.Type) + " " + e.Text
	}
	return string(e.Type) + " [" + string(e.Code) + "] " + e.Text
}
