package queue

import (
	"io"
	"strconv"
)

// What a remote server may send in one session. RFC 5321 4.5.3.1.5 bounds
// a reply line at 512 octets with its CRLF but not the lines of a
// multi-line reply (4.2.1), and net/textproto and go-smtp's client read
// them without end. Anyone can make the queue connect to a server of
// theirs (an autoresponder's reply, a DSN, a forward), so a server that
// sends more than this is broken or hostile: the session ends as a
// temporary failure, which costs one connection instead of the process's
// memory.
const (
	// maxReplyLine is one reply line: four times RFC 5321's 512 (go-smtp's
	// client stops at 2000 itself).
	maxReplyLine = 2048
	// maxReply is one reply, all its lines; EHLO replies, the longest,
	// take a few hundred bytes.
	maxReply = 64 << 10
	// maxSessionRead is everything one session reads: greeting, EHLO,
	// STARTTLS, MAIL, up to 100 RCPTs, DATA take a few kilobytes.
	maxSessionRead = 256 << 10
)

// limitError is a remote server that sent more than the limits allow.
// what says what, for a DSN.
type limitError struct{ what string }

func (e *limitError) Error() string { return "remote server sent " + e.what }

var (
	errLongLine    = &limitError{"a reply line longer than " + strconv.Itoa(maxReplyLine) + " bytes"}
	errLongReply   = &limitError{"a reply longer than " + strconv.Itoa(maxReply) + " bytes"}
	errLongSession = &limitError{"more than " + strconv.Itoa(maxSessionRead) + " bytes in one session"}
)

// readLimits counts what one session reads from the remote server. It
// sits where the plain text comes out: on the TCP connection before
// STARTTLS, on the TLS connection after it.
type readLimits struct {
	session int  // bytes read in the session
	line    int  // bytes of the current line so far
	reply   int  // bytes of the current reply so far
	more    bool // the current line's fourth byte is '-': the reply goes on
	err     error
}

// reader returns r read under the limits. Line and reply counts start
// afresh (r is a new stream: TLS after STARTTLS); the session total goes
// on.
func (l *readLimits) reader(r io.Reader) io.Reader {
	l.line, l.reply, l.more = 0, 0, false
	return &limitedReader{r: r, l: l}
}

type limitedReader struct {
	r io.Reader
	l *readLimits
}

// Read fails, from then on, once the server has sent too much; what it
// read past the limit is dropped.
func (lr *limitedReader) Read(p []byte) (int, error) {
	if lr.l.err != nil {
		return 0, lr.l.err
	}
	n, err := lr.r.Read(p)
	if lerr := lr.l.count(p[:n]); lerr != nil {
		return 0, lerr
	}
	return n, err
}

// count follows replies as textproto reads them (RFC 5321 4.2.1): a line
// ends at LF, and a reply goes on while its lines have '-' after the code.
func (l *readLimits) count(b []byte) error {
	l.session += len(b)
	if l.session > maxSessionRead {
		l.err = errLongSession
		return l.err
	}
	for _, c := range b {
		if l.line == 3 {
			l.more = c == '-'
		}
		l.line++
		l.reply++
		if c == '\n' {
			if !l.more {
				l.reply = 0
			}
			l.line, l.more = 0, false
			continue
		}
		switch {
		case l.line > maxReplyLine:
			l.err = errLongLine
		case l.reply > maxReply:
			l.err = errLongReply
		}
		if l.err != nil {
			return l.err
		}
	}
	return nil
}
