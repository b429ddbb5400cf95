package msgauth

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// maxHeldField bounds an Authentication-Results field held back while its
// authserv-id is read; past it the field is judged by what was read.
const maxHeldField = 16 << 10

// CopyStripped copies a message from r to w as received, except for the
// Authentication-Results fields of its header whose authserv-id is id:
// those claim to be this server's verdicts and are removed, as RFC 8601
// 5 asks of a border MTA; the one change ever made to received mail. It
// returns the bytes read from r.
func CopyStripped(w io.Writer, r io.Reader, id string) (int64, error) {
	cr := &countReader{r: r}
	br := bufio.NewReaderSize(cr, 4096)
	var held []byte
	holding, decided, drop := false, false, false
	// settle writes or drops the held field.
	settle := func() error {
		if holding && !decided {
			drop = claims(held, id)
		}
		var err error
		if holding && !drop {
			_, err = w.Write(held)
		}
		held, holding, decided, drop = held[:0], false, false, false
		return err
	}
	startOfLine := true
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			switch {
			case startOfLine && (bytes.Equal(chunk, []byte("\r\n")) || bytes.Equal(chunk, []byte("\n"))):
				// The empty line ends the header; the body is copied as is.
				if serr := settle(); serr != nil {
					return cr.n, serr
				}
				if _, werr := w.Write(chunk); werr != nil {
					return cr.n, werr
				}
				if _, cerr := br.WriteTo(w); cerr != nil {
					return cr.n, cerr
				}
				return cr.n, nil
			case startOfLine && chunk[0] != ' ' && chunk[0] != '\t':
				// A new field.
				if serr := settle(); serr != nil {
					return cr.n, serr
				}
				name, _, ok := bytes.Cut(chunk, []byte(":"))
				if ok && strings.EqualFold(strings.TrimRight(string(name), " \t"), "Authentication-Results") {
					holding = true
				}
			}
			switch {
			case holding && !decided:
				held = append(held, chunk...)
				if len(held) > maxHeldField {
					decided, drop = true, claims(held, id)
					if !drop {
						if _, werr := w.Write(held); werr != nil {
							return cr.n, werr
						}
					}
					held = held[:0]
				}
			case holding && drop:
			default:
				if _, werr := w.Write(chunk); werr != nil {
					return cr.n, werr
				}
			}
			startOfLine = chunk[len(chunk)-1] == '\n'
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			// A message that is all header.
			return cr.n, settle()
		}
		if err != nil {
			return cr.n, err
		}
	}
}

// claims reports whether an Authentication-Results field names id as its
// authserv-id: the first word of its value after comments and white space
// (RFC 8601 2.2).
func claims(field []byte, id string) bool {
	_, v, _ := bytes.Cut(field, []byte(":"))
	s := string(v)
	depth := 0
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0, c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			goto word
		}
	}
word:
	s = s[i:]
	if strings.HasPrefix(s, `"`) {
		if end := strings.IndexByte(s[1:], '"'); end >= 0 {
			return strings.EqualFold(s[1:1+end], id)
		}
	}
	end := strings.IndexAny(s, " \t\r\n;(")
	if end < 0 {
		end = len(s)
	}
	return strings.EqualFold(s[:end], id)
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
