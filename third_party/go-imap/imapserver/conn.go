package imapserver

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

const (
	cmdReadTimeout     = 30 * time.Second
	idleReadTimeout    = 35 * time.Minute // section 5.4 says 30min minimum
	literalReadTimeout = 5 * time.Minute

	respWriteTimeout    = 30 * time.Second
	literalWriteTimeout = 5 * time.Minute

	maxCommandSize = 50 * 1024 // RFC 2683 section 3.2.1.5 says 8KiB minimum
)

var internalServerErrorResp = &imap.StatusResponse{
	Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodeServerBug,
	Text: "Internal server error",
}

// A Conn represents an IMAP connection to the server.
type Conn struct {
	server   *Server
	br       *bufio.Reader
	bw       *bufio.Writer
	encMutex sync.Mutex

	mutex   sync.Mutex
	conn    net.Conn
	enabled imap.CapSet

	state    imap.ConnState
	session  Session
	readOnly bool

	// postdesk: coalesce (guarded by encMutex) holds responses back in bw
	// while a command is being answered; they are flushed when the server
	// reads from the client again (flushReader), and at once outside
	// commands and during IDLE.
	coalesce bool

	// postdesk: okCode is the response code of the tagged OK of the
	// command being handled, if the handler sets one (SEARCH's
	// EXPUNGEISSUED). Only the command-reading goroutine uses it.
	okCode imap.ResponseCode
	// postdesk: command is the name of the command being handled (see
	// Command). Only the command-reading goroutine uses it.
	command string
}

// postdesk: writeBufferSize is bw's size: a TLS record's largest payload.
const writeBufferSize = 16 * 1024

// flushReader flushes the responses held back in conn.bw before each read
// from the client: the client may be waiting for them.
type flushReader struct {
	conn *Conn
	r    io.Reader
}

func (fr flushReader) Read(b []byte) (int, error) {
	// If encMutex is held, a writer is between responses: it is either
	// not coalescing (IDLE updates, Bye) or AUTHENTICATE, which flushes
	// its continuation requests itself.
	if fr.conn.encMutex.TryLock() {
		err := fr.conn.flushLocked()
		fr.conn.encMutex.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return fr.r.Read(b)
}

func (c *Conn) setCoalesce(on bool) {
	c.encMutex.Lock()
	c.coalesce = on
	if !on {
		c.flushLocked()
	}
	c.encMutex.Unlock()
}

// flushLocked sends what bw holds, within the response write timeout: a
// client that stops reading must not hold the connection forever.
func (c *Conn) flushLocked() error {
	if c.bw.Buffered() == 0 {
		return nil
	}
	c.setWriteTimeout(respWriteTimeout)
	defer c.setWriteTimeout(0)
	return c.bw.Flush()
}

func newConn(c net.Conn, server *Server) *Conn {
	conn := &Conn{
		conn:    c,
		server:  server,
		enabled: make(imap.CapSet),
	}
	rw := server.options.wrapReadWriter(conn, c)
	conn.bw = bufio.NewWriterSize(rw, writeBufferSize)
	conn.br = bufio.NewReader(flushReader{conn: conn, r: rw})
	return conn
}

// NetConn returns the underlying connection that is wrapped by the IMAP
// connection.
//
// Writing to or reading from this connection directly will corrupt the IMAP
// session.
func (c *Conn) NetConn() net.Conn {
	c.mutex.Lock()
	defer c.mutex.Unlock()
	return c.conn
}

// Bye terminates the IMAP connection.
//
// postdesk: Bye may be called from any goroutine, also while a command is
// being answered (a server shutting down, an account disabled meanwhile):
// the BYE goes out between two responses, after those held back. It waits
// at most byeWait for the response being written to end; if it does not (a
// large literal to a slow client, AUTHENTICATE waiting for the client's
// answer), the connection is closed without BYE, as a client must expect
// anyway (RFC 9051 7.1.5). The BYE is written within byeWriteTimeout.
// Upstream's Bye waited for the encoder however long and used the
// connection without its lock.
func (c *Conn) Bye(text string) error {
	respErr := errByeSkipped
	quotedUTF8 := c.quotedUTF8()
	if c.lockEncoder(byeWait) {
		c.coalesce = false
		enc := newLockedResponseEncoder(c, quotedUTF8)
		c.setWriteTimeout(byeWriteTimeout)
		respErr = writeStatusResp(enc.Encoder, "", &imap.StatusResponse{
			Type: imap.StatusResponseTypeBye,
			Text: text,
		})
		if respErr == nil {
			respErr = enc.Flush()
		}
		enc.end()
	}
	closeErr := c.NetConn().Close()
	if respErr != nil && respErr != errByeSkipped {
		return respErr
	}
	return closeErr
}

// postdesk: see Bye.
const (
	byeWait         = time.Second
	byeWriteTimeout = 5 * time.Second
)

var errByeSkipped = errors.New("imapserver: BYE skipped in the middle of a response")

// lockEncoder locks encMutex, waiting at most d.
//
// postdesk: see Bye.
func (c *Conn) lockEncoder(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !c.encMutex.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Command returns the name of the command being handled, upper-case, with
// "UID " before the name of a UID command ("UID FETCH"), for a Session
// method called for it: a Session may answer LIST and LSUB, or FETCH and
// UID FETCH, from one method each. It is only valid on the goroutine that
// calls the Session's methods for commands.
//
// postdesk: upstream gave the Session no way to tell them apart where the
// arguments do not (LSUB and LIST (SUBSCRIBED RECURSIVEMATCH) make the
// same ListOptions, and $ the same NumSet for STORE and UID STORE).
func (c *Conn) Command() string {
	return c.command
}

// Flush sends the responses held back while a command is being answered.
//
// postdesk: for a backend that writes to NetConn between two responses.
func (c *Conn) Flush() error {
	c.encMutex.Lock()
	defer c.encMutex.Unlock()
	return c.flushLocked()
}

func (c *Conn) EnabledCaps() imap.CapSet {
	c.mutex.Lock()
	defer c.mutex.Unlock()

	return c.enabled.Copy()
}

func (c *Conn) serve() {
	defer func() {
		if v := recover(); v != nil {
			c.server.logger().Printf("panic handling command: %v\n%s", v, debug.Stack())
		}

		c.setCoalesce(false) // postdesk: flush what is held back
		c.conn.Close()
	}()

	c.server.mutex.Lock()
	c.server.conns[c] = struct{}{}
	c.server.mutex.Unlock()
	defer func() {
		c.server.mutex.Lock()
		delete(c.server.conns, c)
		c.server.mutex.Unlock()
	}()

	var (
		greetingData *GreetingData
		err          error
	)
	c.session, greetingData, err = c.server.options.NewSession(c)
	if err != nil {
		var (
			resp    *imap.StatusResponse
			imapErr *imap.Error
		)
		if errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeBye {
			resp = (*imap.StatusResponse)(imapErr)
		} else {
			c.server.logger().Printf("failed to create session: %v", err)
			resp = internalServerErrorResp
		}
		if err := c.writeStatusResp("", resp); err != nil {
			c.server.logger().Printf("failed to write greeting: %v", err)
		}
		return
	}

	defer func() {
		if c.session != nil {
			if err := c.session.Close(); err != nil {
				c.server.logger().Printf("failed to close session: %v", err)
			}
		}
	}()

	caps := c.server.options.caps()
	if _, ok := c.session.(SessionIMAP4rev2); !ok && caps.Has(imap.CapIMAP4rev2) {
		panic("imapserver: server advertises IMAP4rev2 but session doesn't support it")
	}
	if _, ok := c.session.(SessionNamespace); !ok && caps.Has(imap.CapNamespace) {
		panic("imapserver: server advertises NAMESPACE but session doesn't support it")
	}
	if _, ok := c.session.(SessionMove); !ok && caps.Has(imap.CapMove) {
		panic("imapserver: server advertises MOVE but session doesn't support it")
	}
	if _, ok := c.session.(SessionUnauthenticate); !ok && caps.Has(imap.CapUnauthenticate) {
		panic("imapserver: server advertises UNAUTHENTICATE but session doesn't support it")
	}

	c.state = imap.ConnStateNotAuthenticated
	statusType := imap.StatusResponseTypeOK
	if greetingData != nil && greetingData.PreAuth {
		c.state = imap.ConnStateAuthenticated
		statusType = imap.StatusResponseTypePreAuth
	}
	if err := c.writeCapabilityStatus("", statusType, "IMAP server ready"); err != nil {
		c.server.logger().Printf("failed to write greeting: %v", err)
		return
	}

	for {
		var readTimeout time.Duration
		switch c.state {
		case imap.ConnStateAuthenticated, imap.ConnStateSelected:
			readTimeout = idleReadTimeout
		default:
			readTimeout = cmdReadTimeout
		}
		c.setReadTimeout(readTimeout)

		dec := imapwire.NewDecoder(c.br, imapwire.ConnSideServer)
		dec.MaxSize = maxCommandSize
		dec.CheckBufferedLiteralFunc = c.checkBufferedLiteral
		dec.DeferMailboxNameErrors = true // postdesk: a bad name is a NO
		// postdesk: raw UTF-8 names only once the client said it sends
		// them (Decoder.MailboxUTF8).
		c.mutex.Lock()
		dec.MailboxUTF8 = c.enabled.Has(imap.CapIMAP4rev2) || c.enabled.Has(imap.CapUTF8Accept)
		c.mutex.Unlock()

		if c.state == imap.ConnStateLogout || dec.EOF() {
			break
		}

		c.setReadTimeout(cmdReadTimeout)
		if err := c.readCommand(dec); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.server.logger().Printf("failed to read command: %v", err)
			}
			break
		}
	}
}

func (c *Conn) readCommand(dec *imapwire.Decoder) error {
	// postdesk: a line that is no command (empty, a bad tag, no command
	// name) is answered BAD and skipped; upstream ignored an empty line
	// and closed the connection for the others.
	if dec.CRLF() {
		return c.badCommand(dec, "", "Empty command line")
	}

	var tag, name string
	if !dec.Func(&tag, isTagChar) {
		return c.badCommand(dec, "", "Invalid tag")
	}
	if !dec.Special(' ') {
		if dec.CRLF() {
			return c.badCommand(dec, tag, "Missing command")
		}
		return c.badCommand(dec, "", "Invalid tag")
	}
	if !dec.Atom(&name) {
		return c.badCommand(dec, tag, "Missing command")
	}
	name = strings.ToUpper(name)

	// postdesk: hold the command's responses back until the server reads
	// again (see flushReader).
	c.encMutex.Lock()
	c.coalesce = true
	c.encMutex.Unlock()
	defer func() {
		c.encMutex.Lock()
		c.coalesce = false
		c.encMutex.Unlock()
	}()

	numKind := NumKindSeq
	if name == "UID" {
		numKind = NumKindUID
		var subName string
		if !dec.SP() || !dec.Atom(&subName) {
			return c.badCommand(dec, tag, "Missing command") // postdesk
		}
		name = "UID " + strings.ToUpper(subName)
	}

	// TODO: handle multiple commands concurrently
	sendOK := true
	c.okCode = ""
	c.command = name // postdesk: see Command
	var err error
	switch name {
	case "NOOP", "CHECK":
		err = c.handleNoop(dec)
	case "LOGOUT":
		err = c.handleLogout(dec)
	case "CAPABILITY":
		err = c.handleCapability(dec)
	case "STARTTLS":
		err = c.handleStartTLS(tag, dec)
		sendOK = false
	case "AUTHENTICATE":
		err = c.handleAuthenticate(tag, dec)
		sendOK = false
	case "UNAUTHENTICATE":
		err = c.handleUnauthenticate(dec)
	case "LOGIN":
		err = c.handleLogin(tag, dec)
		sendOK = false
	case "ENABLE":
		err = c.handleEnable(dec)
	case "CREATE":
		err = c.handleCreate(dec)
	case "DELETE":
		err = c.handleDelete(dec)
	case "RENAME":
		err = c.handleRename(dec)
	case "SUBSCRIBE":
		err = c.handleSubscribe(dec)
	case "UNSUBSCRIBE":
		err = c.handleUnsubscribe(dec)
	case "STATUS":
		err = c.handleStatus(dec)
	case "LIST":
		err = c.handleList(dec)
	case "LSUB":
		err = c.handleLSub(dec)
	case "NAMESPACE":
		err = c.handleNamespace(dec)
	case "IDLE":
		err = c.handleIdle(dec)
	case "SELECT", "EXAMINE":
		err = c.handleSelect(tag, dec, name == "EXAMINE")
		sendOK = false
	case "CLOSE", "UNSELECT":
		err = c.handleUnselect(dec, name == "CLOSE")
	case "APPEND":
		err = c.handleAppend(tag, dec)
		sendOK = false
	case "FETCH", "UID FETCH":
		err = c.handleFetch(dec, numKind)
	case "EXPUNGE":
		err = c.handleExpunge(dec)
	case "UID EXPUNGE":
		err = c.handleUIDExpunge(dec)
	case "STORE", "UID STORE":
		err = c.handleStore(dec, numKind)
	case "COPY", "UID COPY":
		err = c.handleCopy(tag, dec, numKind)
		sendOK = false
	case "MOVE", "UID MOVE":
		err = c.handleMove(dec, numKind)
	case "SEARCH", "UID SEARCH":
		err = c.handleSearch(tag, dec, numKind)
	// postdesk: ID (RFC 2971) and QUOTA (RFC 9208), see id.go and quota.go.
	case "ID":
		err = c.handleID(dec)
	case "GETQUOTA":
		err = c.handleGetQuota(dec)
	case "GETQUOTAROOT":
		err = c.handleGetQuotaRoot(dec)
	case "SETQUOTA":
		err = c.handleSetQuota(dec)
	// postdesk: SORT and THREAD (RFC 5256), see sort.go.
	case "SORT", "UID SORT":
		err = c.handleSort(tag, dec, numKind)
	case "THREAD", "UID THREAD":
		err = c.handleThread(dec, numKind)
	// postdesk: CONTEXT=SEARCH (RFC 5267), see context.go.
	case "CANCELUPDATE":
		err = c.handleCancelUpdate(dec)
	default:
		if c.state == imap.ConnStateNotAuthenticated {
			// Don't allow a single unknown command before authentication to
			// mitigate cross-protocol attacks:
			// https://www-archive.mozilla.org/projects/netlib/portbanning
			c.state = imap.ConnStateLogout
			defer c.Bye("Unknown command")
		}
		err = &imap.Error{
			Type: imap.StatusResponseTypeBad,
			Text: "Unknown command",
		}
	}

	discardErr := dec.DiscardLine() // postdesk: see Decoder.DiscardLine

	var (
		resp    *imap.StatusResponse
		imapErr *imap.Error
		decErr  *imapwire.DecoderExpectError
		nameErr *imapwire.MailboxNameError
	)
	if err != nil && dec.MaxSizeExceeded() {
		// postdesk: the line was too long, whatever the handler made of
		// it.
		resp = tooLongResp
	} else if errors.As(err, &imapErr) {
		resp = (*imap.StatusResponse)(imapErr)
	} else if errors.As(err, &nameErr) {
		// postdesk: the arguments parsed; the name is no mailbox's.
		resp = &imap.StatusResponse{
			Type: imap.StatusResponseTypeNo,
			Text: "Invalid mailbox name: " + nameErr.Err.Error(),
		}
	} else if errors.As(err, &decErr) {
		resp = &imap.StatusResponse{
			Type: imap.StatusResponseTypeBad,
			Code: imap.ResponseCodeClientBug,
			Text: "Syntax error: " + decErr.Message,
		}
	} else if err != nil {
		c.server.logger().Printf("handling %v command: %v", name, err)
		resp = internalServerErrorResp
	} else {
		if !sendOK {
			return discardErr
		}
		if err := c.poll(name); err != nil {
			return err
		}
		resp = &imap.StatusResponse{
			Type: imap.StatusResponseTypeOK,
			Code: c.okCode,
			Text: fmt.Sprintf("%v completed", name),
		}
	}
	if err := c.writeStatusResp(tag, resp); err != nil {
		return err
	}
	return c.discardFailed(discardErr)
}

// readLine reads a line that is not a command (a SASL response, the DONE
// that ends IDLE), without its CRLF. A line longer than max is read to its
// end and dropped, and tooLong reported.
//
// postdesk: upstream read these lines with bufio.Reader.ReadLine, and the
// rest of one longer than its buffer (4 KiB) was read as commands.
func (c *Conn) readLine(max int) (line []byte, tooLong bool, err error) {
	for {
		frag, isPrefix, err := c.br.ReadLine()
		if err != nil {
			return nil, false, err
		}
		if !tooLong {
			line = append(line, frag...)
			if len(line) > max {
				line, tooLong = nil, true
			}
		}
		if !isPrefix {
			return line, tooLong, nil
		}
	}
}

// tooLongResp answers a command line longer than maxCommandSize.
//
// postdesk: upstream answered NO [SERVERBUG] and read the rest of the line
// as the next command (or closed the connection, if the limit was reached
// before the command's name).
var tooLongResp = &imap.StatusResponse{
	Type: imap.StatusResponseTypeBad,
	Code: imap.ResponseCodeTooBig,
	Text: "Command line too long",
}

// badCommand answers BAD for a line that is not a command and skips it.
//
// postdesk: see readCommand.
func (c *Conn) badCommand(dec *imapwire.Decoder, tag, text string) error {
	resp := &imap.StatusResponse{Type: imap.StatusResponseTypeBad, Text: text}
	if err := dec.Err(); errors.Is(err, imapwire.ErrMaxSize) {
		resp = tooLongResp
	} else if err != nil {
		return err // reading failed
	}
	discardErr := dec.DiscardLine()
	if dec.MaxSizeExceeded() {
		resp = tooLongResp
	}
	if err := c.writeStatusResp(tag, resp); err != nil {
		return err
	}
	return c.discardFailed(discardErr)
}

// discardFailed ends the connection when the rest of a command could not
// be skipped: a literal too large to read and drop gets BYE [TOOBIG].
//
// postdesk: see Decoder.DiscardLine.
func (c *Conn) discardFailed(err error) error {
	if errors.Is(err, imapwire.ErrDiscardTooLarge) {
		c.state = imap.ConnStateLogout
		return c.writeStatusResp("", &imap.StatusResponse{
			Type: imap.StatusResponseTypeBye,
			Code: imap.ResponseCodeTooBig,
			Text: "Literal too large",
		})
	}
	return err
}

// isTagChar reports whether ch may be part of a tag: tag = 1*<any
// ASTRING-CHAR except "+"> (RFC 9051 9).
//
// postdesk: upstream took any atom as a tag.
func isTagChar(ch byte) bool {
	if ch <= ' ' || ch >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`(){%*"\+`, rune(ch))
}

func (c *Conn) handleNoop(dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	return nil
}

func (c *Conn) handleLogout(dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}

	c.state = imap.ConnStateLogout

	return c.writeStatusResp("", &imap.StatusResponse{
		Type: imap.StatusResponseTypeBye,
		Text: "Logging out",
	})
}

func (c *Conn) handleDelete(dec *imapwire.Decoder) error {
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkState(imap.ConnStateAuthenticated); err != nil {
		return err
	}
	return c.session.Delete(name)
}

func (c *Conn) handleRename(dec *imapwire.Decoder) error {
	var oldName, newName string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&oldName) || !dec.ExpectSP() || !dec.ExpectMailbox(&newName) || !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkState(imap.ConnStateAuthenticated); err != nil {
		return err
	}
	var options imap.RenameOptions
	return c.session.Rename(oldName, newName, &options)
}

func (c *Conn) handleSubscribe(dec *imapwire.Decoder) error {
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkState(imap.ConnStateAuthenticated); err != nil {
		return err
	}
	return c.session.Subscribe(name)
}

func (c *Conn) handleUnsubscribe(dec *imapwire.Decoder) error {
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkState(imap.ConnStateAuthenticated); err != nil {
		return err
	}
	return c.session.Unsubscribe(name)
}

func (c *Conn) checkBufferedLiteral(size int64, nonSync bool) error {
	// postdesk: a non-synchronizing literal the server does not take is a
	// client error (BAD) whatever the command.
	if err := c.checkNonSyncLiteral(size, nonSync); err != nil {
		return err
	}
	if size > 4096 {
		return &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Code: imap.ResponseCodeTooBig,
			Text: "Literals are limited to 4096 bytes for this command",
		}
	}

	return c.acceptLiteral(size, nonSync)
}

func (c *Conn) checkNonSyncLiteral(size int64, nonSync bool) error {
	if nonSync && size > 4096 && !c.server.options.caps().Has(imap.CapLiteralPlus) {
		return &imap.Error{
			Type: imap.StatusResponseTypeBad,
			Code: imap.ResponseCodeTooBig, // postdesk: RFC 7888 4
			Text: "Non-synchronizing literals are limited to 4096 bytes",
		}
	}
	return nil
}

func (c *Conn) acceptLiteral(size int64, nonSync bool) error {
	if err := c.checkNonSyncLiteral(size, nonSync); err != nil {
		return err
	}

	if nonSync {
		return nil
	}

	return c.writeContReq("Ready for literal data")
}

func (c *Conn) canAuth() bool {
	if c.state != imap.ConnStateNotAuthenticated {
		return false
	}
	_, isTLS := c.conn.(*tls.Conn)
	return isTLS || c.server.options.InsecureAuth
}

func (c *Conn) writeStatusResp(tag string, statusResp *imap.StatusResponse) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	return writeStatusResp(enc.Encoder, tag, statusResp)
}

func (c *Conn) writeContReq(text string) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	return writeContReq(enc.Encoder, text)
}

func (c *Conn) writeCapabilityStatus(tag string, typ imap.StatusResponseType, text string) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	return writeCapabilityStatus(enc.Encoder, tag, typ, c.availableCaps(), text)
}

func (c *Conn) checkState(state imap.ConnState) error {
	if state == imap.ConnStateAuthenticated && c.state == imap.ConnStateSelected {
		return nil
	}
	if c.state != state {
		return newClientBugError(fmt.Sprintf("This command is only valid in the %s state", state))
	}
	return nil
}

func (c *Conn) setReadTimeout(dur time.Duration) {
	if dur > 0 {
		c.conn.SetReadDeadline(time.Now().Add(dur))
	} else {
		c.conn.SetReadDeadline(time.Time{})
	}
}

func (c *Conn) setWriteTimeout(dur time.Duration) {
	if dur > 0 {
		c.conn.SetWriteDeadline(time.Now().Add(dur))
	} else {
		c.conn.SetWriteDeadline(time.Time{})
	}
}

func (c *Conn) poll(cmd string) error {
	switch c.state {
	case imap.ConnStateAuthenticated, imap.ConnStateSelected:
		// nothing to do
	default:
		return nil
	}

	allowExpunge := true
	switch cmd {
	case "FETCH", "STORE", "SEARCH", "SORT", "THREAD": // postdesk: SORT, THREAD (RFC 5256)
		allowExpunge = false
	}

	w := &UpdateWriter{conn: c, allowExpunge: allowExpunge}
	return c.session.Poll(w, allowExpunge)
}

type responseEncoder struct {
	*imapwire.Encoder
	conn *Conn
}

func newResponseEncoder(conn *Conn) *responseEncoder {
	quotedUTF8 := conn.quotedUTF8()
	conn.encMutex.Lock() // released by responseEncoder.end
	return newLockedResponseEncoder(conn, quotedUTF8)
}

func (conn *Conn) quotedUTF8() bool {
	conn.mutex.Lock()
	defer conn.mutex.Unlock()
	return conn.enabled.Has(imap.CapIMAP4rev2) || conn.enabled.Has(imap.CapUTF8Accept)
}

// newLockedResponseEncoder is newResponseEncoder with encMutex held.
//
// postdesk: for Bye, which waits for the lock a bounded time.
func newLockedResponseEncoder(conn *Conn, quotedUTF8 bool) *responseEncoder {
	wireEnc := imapwire.NewEncoder(conn.bw, imapwire.ConnSideServer)
	wireEnc.QuotedUTF8 = quotedUTF8

	// postdesk: hold back or flush (see Conn.coalesce).
	wireEnc.DeferFlush = conn.coalesce
	conn.setWriteTimeout(respWriteTimeout)
	return &responseEncoder{
		Encoder: wireEnc,
		conn:    conn,
	}
}

func (enc *responseEncoder) end() {
	if enc.Encoder == nil {
		panic("imapserver: responseEncoder.end called twice")
	}
	enc.Encoder = nil
	enc.conn.setWriteTimeout(0)
	enc.conn.encMutex.Unlock()
}

func (enc *responseEncoder) Literal(size int64) io.WriteCloser {
	enc.conn.setWriteTimeout(literalWriteTimeout)
	return literalWriter{
		WriteCloser: enc.Encoder.Literal(size, nil),
		conn:        enc.conn,
	}
}

type literalWriter struct {
	io.WriteCloser
	conn *Conn
}

func (lw literalWriter) Close() error {
	lw.conn.setWriteTimeout(respWriteTimeout)
	return lw.WriteCloser.Close()
}

func writeStatusResp(enc *imapwire.Encoder, tag string, statusResp *imap.StatusResponse) error {
	if tag == "" {
		tag = "*"
	}
	enc.Atom(tag).SP().Atom(string(statusResp.Type)).SP()
	if statusResp.Code != "" {
		enc.Atom(fmt.Sprintf("[%v]", statusResp.Code)).SP()
	}
	enc.Text(statusResp.Text)
	return enc.CRLF()
}

func writeCapabilityOK(enc *imapwire.Encoder, tag string, caps []imap.Cap, text string) error {
	return writeCapabilityStatus(enc, tag, imap.StatusResponseTypeOK, caps, text)
}

func writeCapabilityStatus(enc *imapwire.Encoder, tag string, typ imap.StatusResponseType, caps []imap.Cap, text string) error {
	if tag == "" {
		tag = "*"
	}

	enc.Atom(tag).SP().Atom(string(typ)).SP().Special('[').Atom("CAPABILITY")
	for _, c := range caps {
		enc.SP().Atom(string(c))
	}
	enc.Special(']').SP().Text(text)
	return enc.CRLF()
}

func writeContReq(enc *imapwire.Encoder, text string) error {
	if err := enc.Atom("+").SP().Text(text).CRLF(); err != nil {
		return err
	}
	return enc.Flush() // postdesk: the client waits for it
}

func newClientBugError(text string) error {
	return &imap.Error{
		Type: imap.StatusResponseTypeBad,
		Code: imap.ResponseCodeClientBug,
		Text: text,
	}
}

// UpdateWriter writes status updates.
type UpdateWriter struct {
	conn         *Conn
	allowExpunge bool
}

// WriteExpunge writes an EXPUNGE response.
func (w *UpdateWriter) WriteExpunge(seqNum uint32) error {
	if !w.allowExpunge {
		return fmt.Errorf("imapserver: EXPUNGE updates are not allowed in this context")
	}
	return w.conn.writeExpunge(seqNum)
}

// WriteNumMessages writes an EXISTS response.
func (w *UpdateWriter) WriteNumMessages(n uint32) error {
	return w.conn.writeExists(n)
}

// WriteNumRecent writes an RECENT response (not used in IMAP4rev2, will be ignored).
func (w *UpdateWriter) WriteNumRecent(n uint32) error {
	if w.conn.enabled.Has(imap.CapIMAP4rev2) || !w.conn.server.options.caps().Has(imap.CapIMAP4rev1) {
		return nil
	}
	return w.conn.writeObsoleteRecent(n)
}

// WriteMailboxFlags writes a FLAGS response.
func (w *UpdateWriter) WriteMailboxFlags(flags []imap.Flag) error {
	return w.conn.writeFlags(flags)
}

// WriteMessageFlags writes a FETCH response with FLAGS.
func (w *UpdateWriter) WriteMessageFlags(seqNum uint32, uid imap.UID, flags []imap.Flag) error {
	fetchWriter := &FetchWriter{conn: w.conn}
	respWriter := fetchWriter.CreateMessage(seqNum)
	if uid != 0 {
		respWriter.WriteUID(uid)
	}
	respWriter.WriteFlags(flags)
	return respWriter.Close()
}
