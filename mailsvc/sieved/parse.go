package sieved

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseError is a command that can't be read: answered NO, or BYE when
// the stream can't be followed any more (fatal).
type parseError struct {
	msg   string
	fatal bool
}

func (e *parseError) Error() string { return e.msg }

// readCommand reads one command (RFC 5804 4): an atom, then strings
// (quoted or literal) and numbers, to the end of the line.
func (ss *session) readCommand() (string, []string, error) {
	for {
		name, args, err := ss.readStrings(false)
		if err != nil {
			return "", nil, err
		}
		if name == "" && len(args) == 0 {
			continue // an empty line
		}
		if name == "" {
			return "", nil, &parseError{msg: "A command starts with its name"}
		}
		return name, args, nil
	}
}

// readStrings reads a line of tokens: a leading atom (the command name,
// unless stringsOnly) and strings or numbers after it. A literal is read
// whole, whether it announces itself as non-synchronizing ({N+}, RFC
// 5804's literal-c2s) or not: the server sends no continuation.
func (ss *session) readStrings(stringsOnly bool) (string, []string, error) {
	var name string
	var args []string
	lineBytes := 0
	first := !stringsOnly
	for {
		c, err := ss.r.ReadByte()
		if err != nil {
			return "", nil, err
		}
		lineBytes++
		if lineBytes > maxLine {
			return "", nil, errLineTooLong
		}
		switch {
		case c == ' ':
			continue
		case c == '\r':
			continue
		case c == '\n':
			return name, args, nil
		case c == '"':
			s, n, err := ss.readQuoted()
			if err != nil {
				return "", nil, err
			}
			lineBytes += n
			if lineBytes > maxLine {
				return "", nil, errLineTooLong
			}
			args = append(args, s)
		case c == '{':
			s, err := ss.readLiteral()
			if err != nil {
				return "", nil, err
			}
			args = append(args, s)
		default:
			ss.r.UnreadByte()
			atom, n, err := ss.readAtom()
			if err != nil {
				return "", nil, err
			}
			lineBytes += n
			if lineBytes > maxLine {
				return "", nil, errLineTooLong
			}
			if first && len(args) == 0 && name == "" {
				name = atom
			} else {
				args = append(args, atom)
			}
		}
		first = false
		if len(args) > maxArgs {
			ss.discardLine()
			return "", nil, &parseError{msg: "Too many arguments"}
		}
	}
}

// readQuoted reads a quoted string after its opening quote; n is the
// bytes read.
func (ss *session) readQuoted() (string, int, error) {
	var b strings.Builder
	n := 0
	for {
		c, err := ss.r.ReadByte()
		if err != nil {
			return "", n, err
		}
		n++
		if n > maxLine {
			return "", n, errLineTooLong
		}
		switch c {
		case '"':
			if !utf8.ValidString(b.String()) {
				ss.discardLine()
				return "", n, &parseError{msg: "Strings are UTF-8"}
			}
			return b.String(), n, nil
		case '\\':
			e, err := ss.r.ReadByte()
			if err != nil {
				return "", n, err
			}
			n++
			b.WriteByte(e)
		case '\r', '\n', 0:
			if c != '\n' {
				ss.discardLine()
			}
			return "", n, &parseError{msg: "A quoted string holds no line break"}
		default:
			b.WriteByte(c)
		}
	}
}

// readLiteral reads "N}" or "N+}", the line break, and N octets. A literal
// past maxLiteral can't be read: the session ends.
func (ss *session) readLiteral() (string, error) {
	spec, err := ss.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	spec = strings.TrimSuffix(strings.TrimSuffix(spec, "\n"), "\r")
	if len(spec) > 12 || !strings.HasSuffix(spec, "}") {
		return "", &parseError{msg: "Malformed literal", fatal: true}
	}
	spec = strings.TrimSuffix(strings.TrimSuffix(spec, "}"), "+")
	size, err := strconv.ParseInt(spec, 10, 64)
	if err != nil || size < 0 {
		return "", &parseError{msg: "Malformed literal", fatal: true}
	}
	if size > maxLiteral {
		return "", &parseError{msg: "Literal too large", fatal: true}
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(ss.r, buf); err != nil {
		return "", err
	}
	if !utf8.Valid(buf) {
		ss.discardLine()
		return "", &parseError{msg: "Strings are UTF-8"}
	}
	return string(buf), nil
}

// readAtom reads a command name or number up to a space or line break.
func (ss *session) readAtom() (string, int, error) {
	var b strings.Builder
	for {
		c, err := ss.r.ReadByte()
		if err != nil {
			return "", b.Len(), err
		}
		if c == ' ' || c == '\r' || c == '\n' {
			ss.r.UnreadByte()
			return b.String(), b.Len(), nil
		}
		if c < 0x21 || c > 0x7e || c == '"' || c == '{' {
			ss.discardLine()
			return "", b.Len(), &parseError{msg: "Malformed command"}
		}
		b.WriteByte(c)
		if b.Len() > maxLine {
			return "", b.Len(), errLineTooLong
		}
	}
}

// discardLine skips the rest of a line, up to maxLine bytes.
func (ss *session) discardLine() {
	for i := 0; i < maxLine; i++ {
		c, err := ss.r.ReadByte()
		if err != nil || c == '\n' {
			return
		}
	}
}
