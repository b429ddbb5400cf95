package smtp

import (
	"bufio"
	"fmt"
	"io"
)

type EnhancedCode [3]int

// SMTPError specifies the error code, enhanced error code (if any) and
// message returned by the server.
type SMTPError struct {
	Code         int
	EnhancedCode EnhancedCode
	Message      string
}

// NoEnhancedCode is used to indicate that enhanced error code should not be
// included in response.
//
// Note that RFC 2034 requires an enhanced code to be included in all 2xx, 4xx
// and 5xx responses. This constant is exported for use by extensions, you
// should probably use EnhancedCodeNotSet instead.
var NoEnhancedCode = EnhancedCode{-1, -1, -1}

// EnhancedCodeNotSet is a nil value of EnhancedCode field in SMTPError, used
// to indicate that backend failed to provide enhanced status code. X.0.0 will
// be used (X is derived from error code).
var EnhancedCodeNotSet = EnhancedCode{0, 0, 0}

func (err *SMTPError) Error() string {
	s := fmt.Sprintf("SMTP error %03d", err.Code)
	if err.Message != "" {
		s += ": " + err.Message
	}
	return s
}

func (err *SMTPError) Temporary() bool {
	return err.Code/100 == 4
}

var ErrDataTooLarge = &SMTPError{
	Code:         552,
	EnhancedCode: EnhancedCode{5, 3, 4},
	Message:      "Maximum message size exceeded",
}

// ErrBareLineEnding is returned by the DATA reader of a server with
// StrictCRLF once it has read the real end of data (<CRLF>.<CRLF>) of a
// message that held a CR or LF not part of a CRLF pair (RFC 5321 2.3.8).
//
// postdesk: added, with Server.StrictCRLF.
var ErrBareLineEnding = &SMTPError{
	Code:         554,
	EnhancedCode: EnhancedCode{5, 6, 0},
	Message:      "Bare CR or LF in message: lines must end with CRLF",
}

// ErrDataLineTooLong is returned by the DATA reader of a server with
// MaxDataLineLength once it has read the real end of data of a message
// holding a longer line.
//
// postdesk: added, with Server.MaxDataLineLength.
var ErrDataLineTooLong = &SMTPError{
	Code:         554,
	EnhancedCode: EnhancedCode{5, 6, 0},
	Message:      "Message holds a line too long",
}

type dataReader struct {
	r     *bufio.Reader
	state int

	// strict records bare CR and LF (bare) and answers ErrBareLineEnding
	// at the end of data instead of io.EOF.
	strict bool
	bare   bool

	// postdesk: maxLine (octets, line ending included; 0: no limit)
	// records a longer line (long) and answers ErrDataLineTooLong at the
	// end of data instead of io.EOF. line counts the current line.
	maxLine int
	line    int
	long    bool

	limited bool
	n       int64 // Maximum bytes remaining
}

func newDataReader(c *Conn) *dataReader {
	dr := &dataReader{
		r:       c.text.R,
		strict:  c.server.StrictCRLF,
		maxLine: c.server.MaxDataLineLength,
	}

	if c.server.MaxMessageBytes > 0 {
		dr.limited = true
		dr.n = int64(c.server.MaxMessageBytes)
	}

	return dr
}

func (r *dataReader) Read(b []byte) (n int, err error) {
	if r.limited {
		if r.n <= 0 {
			return 0, ErrDataTooLarge
		}
		if int64(len(b)) > r.n {
			b = b[0:r.n]
		}
	}

	// Code below is taken from net/textproto with only one modification to
	// not rewrite CRLF -> LF.

	// Run data through a simple state machine to
	// elide leading dots and detect End-of-Data (<CR><LF>.<CR><LF>) line.
	const (
		stateBeginLine = iota // beginning of line; initial state; must be zero
		stateDot              // read . at beginning of line
		stateDotCR            // read .\r at beginning of line
		stateCR               // read \r (possibly at end of line)
		stateData             // reading data in middle of line
		stateEOF              // reached .\r\n end marker line
	)
	for n < len(b) && r.state != stateEOF {
		var c byte
		c, err = r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			break
		}
		if r.maxLine > 0 {
			// postdesk: note a line over the limit, counted in octets
			// as sent (leading dot and line ending included).
			r.line++
			if r.line > r.maxLine {
				r.long = true
			}
			if c == '\n' {
				r.line = 0
			}
		}
		if r.strict {
			// postdesk: note a bare CR or LF before the state machine
			// below, which drops the CR of ".<CR>x" and so hides it.
			switch r.state {
			case stateBeginLine, stateData, stateDot:
				r.bare = r.bare || c == '\n'
			case stateCR, stateDotCR:
				r.bare = r.bare || c != '\n'
			}
			if c == '\r' && (r.state == stateCR || r.state == stateDotCR) {
				// <CR><CR>: the first is bare, the second may start
				// a CRLF.
				r.state = stateCR
				b[n] = c
				n++
				continue
			}
		}
		switch r.state {
		case stateBeginLine:
			if c == '.' {
				r.state = stateDot
				continue
			}
			if c == '\r' {
				r.state = stateCR
				break
			}
			r.state = stateData
		case stateDot:
			if c == '\r' {
				r.state = stateDotCR
				continue
			}
			r.state = stateData
		case stateDotCR:
			if c == '\n' {
				r.state = stateEOF
				continue
			}
			r.state = stateData
		case stateCR:
			if c == '\n' {
				r.state = stateBeginLine
				break
			}
			r.state = stateData
		case stateData:
			if c == '\r' {
				r.state = stateCR
			}
		}
		b[n] = c
		n++
	}
	if err == nil && r.state == stateEOF {
		err = io.EOF
		switch {
		case r.bare:
			err = ErrBareLineEnding
		case r.long:
			err = ErrDataLineTooLong
		}
	}

	if r.limited {
		r.n -= int64(n)
	}
	return
}
