package imapd

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// frontConn is the thin layer between a client's TCP connection and
// go-imap's imapserver.Conn: go-imap hands it the stream it reads and
// writes, cleartext (after TLS, Options.WrapReadWriter). go-imap v2
// (v2.0.0-beta.9) owns the protocol, but measured against hostile clients
// and Dovecot's imaptest it misbehaves in ways a backend cannot reach, so
// this layer reads the client's command lines and literals before go-imap
// does, and go-imap's responses before the client does:
//
//   - A command line past go-imap's 50 KiB limit makes it lose track of where
//     the next command starts; here it is answered BAD and skipped.
//   - An empty line, a bad tag or a missing command name makes go-imap
//     drop the connection; here it is answered BAD.
//   - An IDLE DONE or SASL response line too long for go-imap is replaced
//     by "*" (ending IDLE with BAD, cancelling AUTHENTICATE); go-imap would
//     read the rest as commands.
//   - When go-imap answers a command before its non-synchronizing literal
//     (a syntax error before it), the literal is dropped; go-imap would
//     read it as commands.
//   - The Session learns the name of the command it runs (LIST or LSUB,
//     UID or not, CLOSE) from here (connState.command), and writes its own
//     lines through it (FLAGS before a FETCH shows a new keyword, BYE).
//
// Moved into go-imap (third_party/go-imap/PATCHES.md): ID (RFC 2971) and
// QUOTA (RFC 9208), answered by the Session (1); BAD for every syntax
// error, such as a bad date, where go-imap answered NO [SERVERBUG] (2);
// response coalescing (3); a refused literal (`LOGIN {100000000}`, a
// non-synchronizing one over 4096 bytes) ending its command at once with
// NO or BAD [TOOBIG] (4); LOGIN refused without TLS before its arguments
// (5); STARTTLS, pipelined bytes discarded (RFC 9051 6.2.1), with this
// layer on the cleartext side of TLS (6).
//
// To know where one command ends and the next begins, the layer follows
// go-imap's side too: after a line ending in a synchronizing literal it
// passes the literal on only if go-imap answered with a "+" continuation
// request, and after IDLE or AUTHENTICATE it passes the next line on
// unread if go-imap asked for it with "+".
//
// go-imap flushes its responses before it reads again, so this layer has
// seen all of go-imap's answer whenever go-imap asks it for more input.
type frontConn struct {
	raw net.Conn
	srv *Server
	cs  *connState
	log *slog.Logger

	// Read side, used only by go-imap's reading goroutine.
	in       *bufio.Reader
	ready    []byte // bytes go-imap may read now
	inCmd    bool   // a command has begun and not ended
	cmdName  string // of the command in progress
	cmdTag   string
	cmdBytes int   // non-literal bytes of the command so far
	litLeft  int64 // bytes of a literal still to pass through
	litFresh bool  // litLeft has not been started yet
	awaitLit int64 // a synchronizing literal go-imap may have asked for

	// Signals from the write side.
	contSeen atomic.Bool // go-imap wrote a "+" continuation request
	doneSeen atomic.Bool // go-imap wrote a tagged response

	// Write side.
	wmu     sync.Mutex
	w       io.Writer // go-imap's stream: raw, or the TLS connection on it
	out     outScanner
	pending []byte // see writeLocked
	closed  bool
}

// Limits of the layer.
const (
	// maxCommandBytes bounds a command's bytes outside literals; go-imap's
	// own limit is 50 KiB, and this one is below it.
	maxCommandBytes = 48 << 10
	// maxDiscard is how much of a refused non-synchronizing literal is
	// read and thrown away before the connection is closed instead.
	maxDiscard = 1 << 20
	// maxRawLine bounds a SASL response or IDLE's DONE line.
	maxRawLine = 8 << 10
)

var errTooLong = errors.New("line too long")

// newFrontConn puts the layer on a connection; raw is the accepted one,
// under any TLS.
func newFrontConn(srv *Server, raw net.Conn, log *slog.Logger) *frontConn {
	f := &frontConn{raw: raw, srv: srv, log: log}
	f.cs = &connState{front: f, remote: raw.RemoteAddr().String()}
	return f
}

// wrap makes rw, the stream go-imap reads and writes, the layer's own
// (go-imap's Options.WrapReadWriter, third_party/go-imap PATCHES.md 6): at
// first the connection, after STARTTLS the TLS connection on it. What the
// client pipelined after STARTTLS was sent in clear: it is discarded
// (RFC 9051 6.2.1).
func (f *frontConn) wrap(rw io.ReadWriter) io.ReadWriter {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if f.in != nil && f.in.Buffered() > 0 {
		f.log.Debug("discarding bytes pipelined after STARTTLS", "bytes", f.in.Buffered())
	}
	f.in = bufio.NewReader(rw)
	f.w = rw
	return f
}

// Read gives go-imap the next bytes it may see.
func (f *frontConn) Read(p []byte) (int, error) {
	for len(f.ready) == 0 {
		if err := f.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, f.ready)
	f.ready = f.ready[n:]
	return n, nil
}

func (f *frontConn) fill() error {
	switch {
	case f.litLeft > 0:
		if f.litFresh {
			f.litFresh = false
			if f.doneSeen.Load() {
				// go-imap rejected the command before its
				// non-synchronizing literal: the literal is data, not
				// commands.
				n := f.litLeft
				f.litLeft, f.inCmd = 0, false
				return f.discard(n)
			}
		}
		return f.passLiteral()
	case f.awaitLit > 0:
		n := f.awaitLit
		f.awaitLit = 0
		if f.contSeen.Swap(false) {
			f.litLeft, f.litFresh = n, false
			return nil
		}
		// go-imap refused the literal and answered: the client will not
		// send it, and the command is over.
		f.inCmd = false
		return nil
	case !f.inCmd && f.contSeen.Swap(false):
		return f.rawLine()
	default:
		return f.piece()
	}
}

func (f *frontConn) passLiteral() error {
	if _, err := f.in.Peek(1); err != nil {
		return err
	}
	n := min(int64(f.in.Buffered()), f.litLeft)
	b := make([]byte, n)
	if _, err := io.ReadFull(f.in, b); err != nil {
		return err
	}
	f.litLeft -= n
	f.ready = b
	return nil
}

// discard reads and drops n bytes of a refused literal; a very large one
// closes the connection instead.
func (f *frontConn) discard(n int64) error {
	if n > maxDiscard {
		f.writeLine("* BYE [TOOBIG] Literal too large")
		return fmt.Errorf("refused literal of %d bytes", n)
	}
	_, err := io.CopyN(io.Discard, f.in, n)
	return err
}

// rawLine passes on a line go-imap asked for with "+": a SASL response or
// IDLE's DONE. One too long for go-imap's buffer is replaced by "*", which
// cancels AUTHENTICATE and ends IDLE with BAD.
func (f *frontConn) rawLine() error {
	line, err := f.readLine(maxRawLine)
	if errors.Is(err, errTooLong) {
		if err := f.skipLine(); err != nil {
			return err
		}
		line = []byte("*\r\n")
	} else if err != nil {
		return err
	}
	f.contSeen.Store(false)
	f.doneSeen.Store(false)
	f.ready = line
	return nil
}

// piece reads one line of a command: a whole command, or the part up to
// (and including) a literal's size, or what follows a literal.
func (f *frontConn) piece() error {
	if f.inCmd && f.doneSeen.Load() {
		// go-imap answered the command before its end (a parse error
		// just after a literal). Its decoder then believes the line
		// ended with the literal and would read the rest as the next
		// command, so the rest is dropped here.
		line, err := f.readLine(maxCommandBytes)
		if errors.Is(err, errTooLong) {
			f.inCmd = false
			return f.skipLine()
		}
		if err != nil {
			return err
		}
		return f.dropCommand(line)
	}
	line, err := f.readLine(maxCommandBytes - f.cmdBytes)
	if errors.Is(err, errTooLong) {
		if err := f.skipLine(); err != nil {
			return err
		}
		if f.inCmd {
			// go-imap has the command's first pieces: end it there.
			return f.release([]byte("\r\n"))
		}
		tag, _, _ := parseStart(line)
		f.writeLine(tagOrStar(tag) + " BAD Command line too long")
		return nil
	}
	if err != nil {
		return err
	}
	if !f.inCmd {
		return f.startCommand(line)
	}
	f.cmdBytes += len(line)
	return f.release(line)
}

func (f *frontConn) startCommand(line []byte) error {
	tag, name, _ := parseStart(line)
	body := bytes.TrimRight(line, "\r\n")
	switch {
	case len(body) == 0:
		f.writeLine("* BAD Empty command line")
		return nil
	case tag == "" || !validTag(tag):
		f.writeLine("* BAD Invalid tag")
		return nil
	case name == "":
		f.writeLine(tag + " BAD Missing command")
		return nil
	}
	f.inCmd, f.cmdTag, f.cmdName, f.cmdBytes = true, tag, name, len(line)
	f.cs.setCommand(name)
	return f.release(line)
}

// release hands a command piece to go-imap and notes what follows it.
func (f *frontConn) release(line []byte) error {
	lit, nonSync, hasLit := trailingLiteral(line)
	f.contSeen.Store(false)
	f.doneSeen.Store(false)
	switch {
	case !hasLit:
		f.inCmd, f.cmdBytes = false, 0
	case nonSync:
		f.litLeft, f.litFresh = lit, true
	default:
		f.awaitLit = lit
	}
	f.ready = line
	return nil
}

// dropCommand throws away the rest of a refused command whose first
// piece was line: nothing if it ends there or in a synchronizing literal
// (the client waits for "+", which it does not get), the literal and the
// following pieces if it ends in a non-synchronizing one.
func (f *frontConn) dropCommand(line []byte) error {
	f.inCmd, f.cmdBytes = false, 0
	for {
		lit, nonSync, hasLit := trailingLiteral(line)
		if !hasLit || !nonSync {
			return nil
		}
		if err := f.discard(lit); err != nil {
			return err
		}
		var err error
		line, err = f.readLine(maxCommandBytes)
		if errors.Is(err, errTooLong) {
			return f.skipLine()
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads up to and including LF, at most max bytes.
func (f *frontConn) readLine(max int) ([]byte, error) {
	var line []byte
	for {
		b, err := f.in.ReadSlice('\n')
		line = append(line, b...)
		if len(line) > max {
			return line[:min(len(line), 64)], errTooLong
		}
		if err == nil {
			return line, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// skipLine reads and drops the rest of an overlong line.
func (f *frontConn) skipLine() error {
	for {
		_, err := f.in.ReadSlice('\n')
		if err == nil {
			return nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// writeLine writes a response line of this layer's own. It is only called
// between go-imap's responses: while go-imap reads (it has written all of
// its answer) or from within a command go-imap has handed to our Session
// before it writes anything.
func (f *frontConn) writeLine(s string) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	err := f.writeLocked([]byte(s + "\r\n"))
	if err == nil {
		err = f.flushLocked()
	}
	if err != nil {
		f.log.Debug("write", "err", err)
	}
}

// Write takes go-imap's output, rewriting the lines described above.
func (f *frontConn) Write(p []byte) (int, error) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if f.closed {
		return 0, net.ErrClosed
	}
	if err := f.out.process(p, f); err != nil {
		return 0, err
	}
	if err := f.flushLocked(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeLocked queues b, so that what one Write of go-imap's (a batch of
// coalesced responses) turns into goes out in one write, not one per line;
// large pieces (message bodies) go out as they are.
func (f *frontConn) writeLocked(b []byte) error {
	if len(f.pending)+len(b) > maxPending {
		if err := f.flushLocked(); err != nil {
			return err
		}
		if len(b) >= maxPending/4 {
			_, err := f.w.Write(b)
			return err
		}
	}
	f.pending = append(f.pending, b...)
	return nil
}

const maxPending = 64 << 10

func (f *frontConn) flushLocked() error {
	if len(f.pending) == 0 {
		return nil
	}
	_, err := f.w.Write(f.pending)
	f.pending = f.pending[:0]
	return err
}

// bye says goodbye between two responses, if the connection is at such a
// point, for a server shutdown.
func (f *frontConn) bye(text string) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if f.closed || !f.out.atLineStart() {
		return
	}
	f.raw.SetWriteDeadline(time.Now().Add(time.Second))
	f.writeLocked([]byte("* BYE " + text + "\r\n"))
	f.flushLocked()
}

// Close closes the connection.
func (f *frontConn) Close() error {
	f.wmu.Lock()
	f.closed = true
	w := f.w
	f.wmu.Unlock()
	f.srv.forget(f)
	if t, ok := w.(*tls.Conn); ok {
		return t.Close()
	}
	return f.raw.Close()
}

// outScanner follows go-imap's output line by line (skipping literals) to
// spot continuation requests and tagged responses and to rewrite the lines
// this layer changes.
type outScanner struct {
	line    []byte // the current line, while it may still be rewritten
	passing bool   // the current line is too long to be one we rewrite: pass it
	tail    []byte // last bytes of a passed line, to find a literal at its end
	litLeft int64
	started bool // some of the current line has been seen
	cont    bool // the current line goes on after a literal
}

const maxRewriteLine = 8 << 10

func (o *outScanner) atLineStart() bool { return !o.started && o.litLeft == 0 }

// process passes go-imap's output p on to f.writeLocked, piece by piece
// (literals and long lines as they are, without a copy), rewriting the
// lines this layer changes.
func (o *outScanner) process(p []byte, f *frontConn) error {
	for len(p) > 0 {
		if o.litLeft > 0 {
			n := min(int64(len(p)), o.litLeft)
			if err := f.writeLocked(p[:n]); err != nil {
				return err
			}
			p = p[n:]
			o.litLeft -= n
			continue
		}
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i+1]
		}
		p = p[len(chunk):]
		o.started = true
		if o.passing {
			if err := f.writeLocked(chunk); err != nil {
				return err
			}
			o.tail = append(o.tail, chunk[max(0, len(chunk)-32):]...)
			if len(o.tail) > 32 {
				o.tail = o.tail[len(o.tail)-32:]
			}
			if i >= 0 {
				o.endLine(o.tail)
			}
			continue
		}
		o.line = append(o.line, chunk...)
		if i < 0 {
			if len(o.line) > maxRewriteLine {
				if err := f.writeLocked(o.line); err != nil {
					return err
				}
				o.tail = append(o.tail[:0], o.line[max(0, len(o.line)-32):]...)
				o.line, o.passing = o.line[:0], true
			}
			continue
		}
		out := o.line
		if !o.cont {
			out = f.rewrite(o.line)
		}
		if err := f.writeLocked(out); err != nil {
			return err
		}
		o.endLine(o.line)
		o.line = o.line[:0]
	}
	return nil
}

// endLine notes a literal announced at the end of a line; after it, the
// response goes on (it is not a new line).
func (o *outScanner) endLine(line []byte) {
	o.passing = false
	o.tail = o.tail[:0]
	if n, _, ok := trailingLiteral(line); ok {
		o.litLeft, o.cont = n, true
		return
	}
	o.started, o.cont = false, false
}

// rewrite changes one complete response line of go-imap's, and notes
// continuation requests and tagged responses for the read side.
func (f *frontConn) rewrite(line []byte) []byte {
	if bytes.HasPrefix(line, []byte("+")) {
		f.contSeen.Store(true)
		return line
	}
	s := string(line)
	tag, _, ok := strings.Cut(s, " ")
	if !ok {
		return line
	}
	if tag != "*" {
		f.doneSeen.Store(true)
	}
	return line
}

// parseStart splits a command line into its tag, its upper-cased name
// ("UID FETCH" for UID commands) and the rest.
func parseStart(line []byte) (tag, name, rest string) {
	s := strings.TrimRight(string(line), "\r\n")
	tag, s, _ = strings.Cut(s, " ")
	name, rest, _ = strings.Cut(s, " ")
	name = strings.ToUpper(name)
	if name == "UID" {
		var sub string
		sub, rest, _ = strings.Cut(rest, " ")
		name += " " + strings.ToUpper(sub)
	}
	return tag, name, rest
}

// validTag: a tag is one or more ASTRING-CHARs other than "+" (RFC 9051 9).
func validTag(tag string) bool {
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`(){%*"\+`, c) >= 0 {
			return false
		}
	}
	return tag != ""
}

func tagOrStar(tag string) string {
	if tag == "" || !validTag(tag) {
		return "*"
	}
	return tag
}

// trailingLiteral finds "{n}" or "{n+}" at the end of a line.
func trailingLiteral(line []byte) (n int64, nonSync, ok bool) {
	s := strings.TrimRight(string(line), "\r\n")
	if !strings.HasSuffix(s, "}") {
		return 0, false, false
	}
	i := strings.LastIndexByte(s, '{')
	if i < 0 {
		return 0, false, false
	}
	num := s[i+1 : len(s)-1]
	if strings.HasSuffix(num, "+") || strings.HasSuffix(num, "-") {
		num, nonSync = num[:len(num)-1], true
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, false, false
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		// Larger than anything: refused by size.
		return 1<<63 - 1, nonSync, true
	}
	return v, nonSync, true
}
