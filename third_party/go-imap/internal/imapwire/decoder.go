package imapwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapnum"
	"github.com/emersion/go-imap/v2/internal/utf7"
)

// This limits the max list nesting depth to prevent stack overflow.
const maxListDepth = 1000

// IsAtomChar returns true if ch is an ATOM-CHAR.
func IsAtomChar(ch byte) bool {
	switch ch {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	default:
		return !unicode.IsControl(rune(ch))
	}
}

// Is non-empty char
func isAStringChar(ch byte) bool {
	return IsAtomChar(ch) || ch == ']'
}

// DecoderExpectError is an error due to the Decoder.Expect family of methods.
type DecoderExpectError struct {
	Message string
}

func (err *DecoderExpectError) Error() string {
	return fmt.Sprintf("imapwire: %v", err.Message)
}

// A Decoder reads IMAP data.
//
// There are multiple families of methods:
//
//   - Methods directly named after IMAP grammar elements attempt to decode
//     said element, and return false if it's another element.
//   - "Expect" methods do the same, but set the decoder error (see Err) on
//     failure.
type Decoder struct {
	// CheckBufferedLiteralFunc is called when a literal is about to be decoded
	// and needs to be fully buffered in memory.
	CheckBufferedLiteralFunc func(size int64, nonSync bool) error
	// MaxSize defines a maximum number of bytes to be read from the input.
	// Literals are ignored.
	MaxSize int64
	// DeferMailboxNameErrors makes a mailbox name that is a valid string but
	// not valid modified UTF-7 a *MailboxNameError at the end of the line
	// (ExpectCRLF, MailboxNameErr) instead of a syntax error at once, so a
	// server can answer NO for it once the whole command has parsed.
	//
	// postdesk: see MailboxNameError.
	DeferMailboxNameErrors bool
	// MailboxUTF8 is set by a server for a session that has enabled
	// UTF8=ACCEPT or IMAP4rev2: raw UTF-8 in a mailbox name is taken as it
	// is (RFC 6855 3, RFC 9051 5.1). A server's decoder without it
	// (DeferMailboxNameErrors set) refuses a name with 8-bit octets as not
	// valid modified UTF-7 (RFC 3501 5.1.3), as Dovecot does.
	//
	// postdesk: upstream took raw UTF-8 from any session and listed the
	// mailbox back in modified UTF-7, a name the client did not create
	// (mbsync 1.4 then made a second copy of the folder on every sync).
	MailboxUTF8 bool

	r         *bufio.Reader
	side      ConnSide
	err       error
	literal   bool
	crlf      bool
	stopped   bool  // postdesk: see RefuseLiteral
	nameErr   error // postdesk: see ExpectMailbox
	listDepth int
	readBytes int64
	// postdesk: the last bytes read outside literals, indexed by readBytes,
	// so that DiscardLine can tell whether the line it ends announced a
	// literal.
	tail [tailSize]byte
}

// tailSize holds the longest literal announcement, "{" 19 digits "+}",
// and the line's end.
const tailSize = 32

// NewDecoder creates a new decoder.
func NewDecoder(r *bufio.Reader, side ConnSide) *Decoder {
	return &Decoder{r: r, side: side}
}

func (dec *Decoder) mustUnreadByte() {
	if err := dec.r.UnreadByte(); err != nil {
		panic(fmt.Errorf("imapwire: failed to unread byte: %v", err))
	}
	dec.readBytes--
}

// Err returns the decoder error, if any.
func (dec *Decoder) Err() error {
	return dec.err
}

func (dec *Decoder) returnErr(err error) bool {
	if err == nil {
		return true
	}
	if dec.err == nil {
		dec.err = err
	}
	return false
}

// returnErrAlways records err, if no error is recorded yet, and returns the
// recorded one.
func (dec *Decoder) returnErrAlways(err error) error {
	dec.returnErr(err)
	return dec.err
}

func (dec *Decoder) readByte() (byte, bool) {
	if dec.stopped {
		return 0, false
	}
	if dec.MaxSize > 0 && dec.readBytes > dec.MaxSize {
		return 0, dec.returnErr(ErrMaxSize)
	}
	dec.crlf = false
	if dec.literal {
		return 0, dec.returnErr(fmt.Errorf("imapwire: cannot decode while a literal is open"))
	}
	b, err := dec.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return b, dec.returnErr(err)
	}
	dec.tail[dec.readBytes%tailSize] = b
	dec.readBytes++
	return b, true
}

// ErrMaxSize is the decoder error once more than MaxSize bytes were read
// outside literals: a server answers BAD and DiscardLine skips the rest of
// the line.
//
// postdesk: upstream's error was a plain one (the server answered NO
// [SERVERBUG]), and DiscardLine stopped at the limit, so the rest of the
// line was read as the next command.
var ErrMaxSize = errors.New("imapwire: max size exceeded")

func (dec *Decoder) acceptByte(want byte) bool {
	got, ok := dec.readByte()
	if !ok {
		return false
	} else if got != want {
		dec.mustUnreadByte()
		return false
	}
	return true
}

// EOF returns true if end-of-file is reached.
func (dec *Decoder) EOF() bool {
	_, err := dec.r.ReadByte()
	if err == io.EOF {
		return true
	} else if err != nil {
		return dec.returnErr(err)
	}
	// postdesk: not mustUnreadByte: the byte was not counted in readBytes.
	if err := dec.r.UnreadByte(); err != nil {
		panic(fmt.Errorf("imapwire: failed to unread byte: %v", err))
	}
	return false
}

// Expect sets the decoder error if ok is false.
func (dec *Decoder) Expect(ok bool, name string) bool {
	if !ok {
		msg := fmt.Sprintf("expected %v", name)
		if dec.r.Buffered() > 0 {
			b, _ := dec.r.Peek(1)
			msg += fmt.Sprintf(", got %q", b)
		}
		return dec.returnErr(&DecoderExpectError{Message: msg})
	}
	return true
}

func (dec *Decoder) SP() bool {
	if dec.acceptByte(' ') {
		// https://github.com/emersion/go-imap/issues/571
		b, ok := dec.readByte()
		if !ok {
			return false
		}
		dec.mustUnreadByte()
		return b != '\r' && b != '\n'
	}

	// Special case: SP is optional if the next field is a parenthesized list
	b, ok := dec.readByte()
	if !ok {
		return false
	}
	dec.mustUnreadByte()
	return b == '('
}

func (dec *Decoder) ExpectSP() bool {
	return dec.Expect(dec.SP(), "SP")
}

func (dec *Decoder) CRLF() bool {
	dec.acceptByte(' ')  // https://github.com/emersion/go-imap/issues/540
	dec.acceptByte('\r') // be liberal in what we receive and accept lone LF
	if !dec.acceptByte('\n') {
		return false
	}
	dec.crlf = true
	return true
}

// ExpectCRLF expects the end of a line. With DeferMailboxNameErrors, a
// command whose arguments named a mailbox that is not a valid name (see
// ExpectMailbox) ends here with a *MailboxNameError once its line has parsed.
func (dec *Decoder) ExpectCRLF() bool {
	if !dec.Expect(dec.CRLF(), "CRLF") {
		return false
	}
	if err := dec.MailboxNameErr(); err != nil {
		return dec.returnErr(err)
	}
	return true
}

// MailboxNameError is a mailbox name that is a valid string but not a valid
// mailbox name (bad modified UTF-7, RFC 3501 5.1.3). It is not a syntax
// error: a server answers NO (or, for a LIST pattern, no entries), as
// Dovecot does.
//
// postdesk: upstream answered BAD "Syntax error" for such a name.
type MailboxNameError struct {
	Name string
	Err  error
}

func (err *MailboxNameError) Error() string {
	return fmt.Sprintf("invalid mailbox name %q: %v", err.Name, err.Err)
}

func (err *MailboxNameError) Unwrap() error {
	return err.Err
}

// MailboxNameErr returns and clears the *MailboxNameError recorded since the
// last one returned, if any. A command that acts before its final CRLF
// (APPEND's literal) checks it itself.
func (dec *Decoder) MailboxNameErr() error {
	err := dec.nameErr
	dec.nameErr = nil
	return err
}

// DecodeMailboxName decodes a mailbox name's modified UTF-7 as ExpectMailbox
// does: with DeferMailboxNameErrors, a bad name is recorded for ExpectCRLF
// and MailboxNameErr and decoding goes on; without, it is an error.
//
// postdesk: it is the one rule for a name on every command (see
// MailboxUTF8).
func (dec *Decoder) DecodeMailboxName(name string) (string, error) {
	var decoded string
	var err error
	if dec.DeferMailboxNameErrors && !dec.MailboxUTF8 && has8Bit(name) {
		err = errMailboxName8Bit
	} else {
		decoded, err = utf7.Decode(name)
	}
	if err == nil {
		return decoded, nil
	}
	if !dec.DeferMailboxNameErrors {
		return "", err
	}
	if dec.nameErr == nil {
		dec.nameErr = &MailboxNameError{Name: name, Err: err}
	}
	return name, nil
}

// errMailboxName8Bit: a name with 8-bit octets from a session that has not
// enabled UTF-8.
var errMailboxName8Bit = errors.New("8-bit name without UTF8=ACCEPT is not modified UTF-7")

func has8Bit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

func (dec *Decoder) Func(ptr *string, valid func(ch byte) bool) bool {
	var sb strings.Builder
	for {
		b, ok := dec.readByte()
		if !ok {
			return false
		}

		if !valid(b) {
			dec.mustUnreadByte()
			break
		}

		sb.WriteByte(b)
	}
	if sb.Len() == 0 {
		return false
	}
	*ptr = sb.String()
	return true
}

func (dec *Decoder) Atom(ptr *string) bool {
	return dec.Func(ptr, IsAtomChar)
}

func (dec *Decoder) ExpectAtom(ptr *string) bool {
	return dec.Expect(dec.Atom(ptr), "atom")
}

func (dec *Decoder) ExpectNIL() bool {
	var s string
	return dec.ExpectAtom(&s) && dec.Expect(s == "NIL", "NIL")
}

func (dec *Decoder) Special(b byte) bool {
	return dec.acceptByte(b)
}

func (dec *Decoder) ExpectSpecial(b byte) bool {
	return dec.Expect(dec.Special(b), fmt.Sprintf("'%v'", string(b)))
}

func (dec *Decoder) Text(ptr *string) bool {
	var sb strings.Builder
	for {
		b, ok := dec.readByte()
		if !ok {
			return false
		} else if b == '\r' || b == '\n' {
			dec.mustUnreadByte()
			break
		}
		sb.WriteByte(b)
	}
	if sb.Len() == 0 {
		return false
	}
	*ptr = sb.String()
	return true
}

func (dec *Decoder) ExpectText(ptr *string) bool {
	return dec.Expect(dec.Text(ptr), "text")
}

func (dec *Decoder) DiscardUntilByte(untilCh byte) {
	for {
		ch, ok := dec.readByte()
		if !ok {
			return
		} else if ch == untilCh {
			dec.mustUnreadByte()
			return
		}
	}
}

// DiscardLine discards the rest of the command's line, after an error.
//
// postdesk: it returns an error only if reading fails or a literal to skip
// is larger than MaxDiscardLiteral. The rest is skipped whatever its length
// (past MaxSize). On the server side, a non-synchronizing literal ("{n+}")
// at the end of a discarded line is read and dropped, with the line that
// follows it, and so on: the client sends its data without waiting, and
// it is not a command. The client sends the data of a synchronizing one
// ("{n}") only after a continuation request, which it does not get, so the
// command ends there. Upstream read such data as commands.
func (dec *Decoder) DiscardLine() error {
	dec.stopped = false
	dec.nameErr = nil // postdesk: see ExpectMailbox
	if dec.crlf {
		return nil
	}
	if dec.literal {
		return fmt.Errorf("imapwire: cannot discard while a literal is open")
	}
	for {
		for {
			b, err := dec.r.ReadByte()
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			dec.tail[dec.readBytes%tailSize] = b
			dec.readBytes++
			if b == '\n' {
				break
			}
		}
		dec.crlf = true
		size, nonSync, ok := dec.tailLiteral()
		if !ok || !nonSync || dec.side != ConnSideServer {
			return nil
		}
		if size > MaxDiscardLiteral {
			return ErrDiscardTooLarge
		}
		if _, err := io.CopyN(io.Discard, dec.r, size); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		dec.crlf = false
	}
}

// MaxSizeExceeded reports whether more than MaxSize bytes were read outside
// literals, counting those DiscardLine skipped.
//
// postdesk: see ErrMaxSize.
func (dec *Decoder) MaxSizeExceeded() bool {
	return dec.MaxSize > 0 && dec.readBytes > dec.MaxSize
}

// MaxDiscardLiteral is the largest literal DiscardLine reads and drops;
// past it, a server closes the connection.
//
// postdesk: see DiscardLine.
const MaxDiscardLiteral = 1 << 20

// ErrDiscardTooLarge is DiscardLine's error for a literal larger than
// MaxDiscardLiteral.
var ErrDiscardTooLarge = errors.New("imapwire: literal too large to discard")

// tailLiteral parses "{n}" or "{n+}" at the end of the line just read, up
// to its CRLF or LF.
func (dec *Decoder) tailLiteral() (size int64, nonSync, ok bool) {
	// The line's last bytes, at most tailSize of them.
	var buf [tailSize]byte
	k := dec.readBytes
	if k > tailSize {
		k = tailSize
	}
	for i := int64(0); i < k; i++ {
		buf[i] = dec.tail[(dec.readBytes-k+i)%tailSize]
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(buf[:k]), "\n"), "\r")
	open := strings.LastIndexByte(s, '{')
	if open < 0 || !strings.HasSuffix(s, "}") {
		return 0, false, false
	}
	num := s[open+1 : len(s)-1]
	if strings.HasSuffix(num, "+") {
		num, nonSync = num[:len(num)-1], true
	}
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return 0, false, false
	}
	size, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		size = 1<<63 - 1 // too large for anything
	}
	return size, nonSync, true
}

func (dec *Decoder) DiscardValue() bool {
	var s string
	if dec.String(&s) {
		return true
	}

	isList, err := dec.List(func() error {
		if !dec.DiscardValue() {
			return dec.Err()
		}
		return nil
	})
	if err != nil {
		return false
	} else if isList {
		return true
	}

	if dec.Atom(&s) {
		return true
	}

	dec.Expect(false, "value")
	return false
}

func (dec *Decoder) numberStr() (s string, ok bool) {
	var sb strings.Builder
	for {
		ch, ok := dec.readByte()
		if !ok {
			return "", false
		} else if ch < '0' || ch > '9' {
			dec.mustUnreadByte()
			break
		}
		sb.WriteByte(ch)
	}
	if sb.Len() == 0 {
		return "", false
	}
	return sb.String(), true
}

func (dec *Decoder) Number(ptr *uint32) bool {
	s, ok := dec.numberStr()
	if !ok {
		return false
	}
	v64, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return false // can happen on overflow
	}
	*ptr = uint32(v64)
	return true
}

func (dec *Decoder) ExpectNumber(ptr *uint32) bool {
	return dec.Expect(dec.Number(ptr), "number")
}

func (dec *Decoder) ExpectBodyFldOctets(ptr *uint32) bool {
	// Workaround: some servers incorrectly return "-1" for the body structure
	// size. See:
	// https://github.com/emersion/go-imap/issues/534
	if dec.acceptByte('-') {
		*ptr = 0
		return dec.Expect(dec.acceptByte('1'), "-1 (body-fld-octets workaround)")
	}
	return dec.ExpectNumber(ptr)
}

func (dec *Decoder) Number64(ptr *int64) bool {
	s, ok := dec.numberStr()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return false // can happen on overflow
	}
	*ptr = v
	return true
}

func (dec *Decoder) ExpectNumber64(ptr *int64) bool {
	return dec.Expect(dec.Number64(ptr), "number64")
}

func (dec *Decoder) ModSeq(ptr *uint64) bool {
	s, ok := dec.numberStr()
	if !ok {
		return false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return false // can happen on overflow
	}
	*ptr = v
	return true
}

func (dec *Decoder) ExpectModSeq(ptr *uint64) bool {
	return dec.Expect(dec.ModSeq(ptr), "mod-sequence-value")
}

func (dec *Decoder) Quoted(ptr *string) bool {
	if !dec.Special('"') {
		return false
	}
	var sb strings.Builder
	for {
		ch, ok := dec.readByte()
		if !ok {
			return false
		}

		if ch == '"' {
			break
		}

		if ch == '\\' {
			ch, ok = dec.readByte()
			if !ok {
				return false
			}
		}

		sb.WriteByte(ch)
	}
	*ptr = sb.String()
	return true
}

func (dec *Decoder) ExpectAString(ptr *string) bool {
	if dec.Quoted(ptr) {
		return true
	}
	if dec.Literal(ptr) {
		return true
	}
	// We cannot do dec.Atom(ptr) here because sometimes mailbox names are unquoted,
	// and they can contain special characters like `]`.
	return dec.Expect(dec.Func(ptr, isAStringChar), "ASTRING-CHAR")
}

func (dec *Decoder) String(ptr *string) bool {
	return dec.Quoted(ptr) || dec.Literal(ptr)
}

func (dec *Decoder) ExpectString(ptr *string) bool {
	return dec.Expect(dec.String(ptr), "string")
}

func (dec *Decoder) ExpectNString(ptr *string) bool {
	var s string
	if dec.Atom(&s) {
		if !dec.Expect(s == "NIL", "nstring") {
			return false
		}
		*ptr = ""
		return true
	}
	return dec.ExpectString(ptr)
}

func (dec *Decoder) ExpectNStringReader() (lit *LiteralReader, nonSync, ok bool) {
	var s string
	if dec.Atom(&s) {
		if !dec.Expect(s == "NIL", "nstring") {
			return nil, false, false
		}
		return nil, true, true
	}
	// TODO: read quoted string as a string instead of buffering
	if dec.Quoted(&s) {
		return newLiteralReaderFromString(s), true, true
	}
	if lit, nonSync, ok = dec.LiteralReader(); ok {
		return lit, nonSync, true
	} else {
		return nil, false, dec.Expect(false, "nstring")
	}
}

func (dec *Decoder) List(f func() error) (isList bool, err error) {
	if !dec.Special('(') {
		return false, nil
	}
	if dec.Special(')') {
		return true, nil
	}

	dec.listDepth++
	defer func() {
		dec.listDepth--
	}()

	if dec.listDepth >= maxListDepth {
		// postdesk: a syntax error (BAD on the server), not an internal one.
		return false, dec.returnErrAlways(&DecoderExpectError{Message: "lists nested too deeply"})
	}

	for {
		if err := f(); err != nil {
			return true, err
		}

		if dec.Special(')') {
			return true, nil
		} else if !dec.ExpectSP() {
			return true, dec.Err()
		}
	}
}

func (dec *Decoder) ExpectList(f func() error) error {
	isList, err := dec.List(f)
	if err != nil {
		return err
	} else if !dec.Expect(isList, "(") {
		return dec.Err()
	}
	return nil
}

func (dec *Decoder) ExpectNList(f func() error) error {
	var s string
	if dec.Atom(&s) {
		if !dec.Expect(s == "NIL", "NIL") {
			return dec.Err()
		}
		return nil
	}
	return dec.ExpectList(f)
}

func (dec *Decoder) ExpectMailbox(ptr *string) bool {
	var name string
	if !dec.ExpectAString(&name) {
		return false
	}
	if strings.EqualFold(name, "INBOX") {
		*ptr = "INBOX"
		return true
	}
	// postdesk: with DeferMailboxNameErrors a bad name is not a syntax
	// error: the command's line is read on, and ExpectCRLF ends it with a
	// *MailboxNameError (see DecodeMailboxName).
	decoded, err := dec.DecodeMailboxName(name)
	if err != nil {
		return dec.returnErr(&DecoderExpectError{
			Message: fmt.Sprintf("invalid mailbox name: %v", err),
		})
	}
	*ptr = decoded
	return true
}

func (dec *Decoder) ExpectUID(ptr *imap.UID) bool {
	var num uint32
	if !dec.ExpectNumber(&num) {
		return false
	}
	*ptr = imap.UID(num)
	return true
}

func (dec *Decoder) ExpectNumSet(kind NumKind, ptr *imap.NumSet) bool {
	if dec.Special('$') {
		*ptr = imap.SearchRes()
		return true
	}

	var s string
	if !dec.Expect(dec.Func(&s, isNumSetChar), "sequence-set") {
		return false
	}
	numSet, err := imapnum.ParseSet(s)
	if err != nil {
		return dec.returnErr(&DecoderExpectError{
			Message: fmt.Sprintf("invalid sequence-set: %v", err),
		})
	}

	switch kind {
	case NumKindSeq:
		*ptr = seqSetFromNumSet(numSet)
	case NumKindUID:
		*ptr = uidSetFromNumSet(numSet)
	}
	return true
}

func (dec *Decoder) ExpectUIDSet(ptr *imap.UIDSet) bool {
	var numSet imap.NumSet
	ok := dec.ExpectNumSet(NumKindUID, &numSet)
	if ok {
		*ptr = numSet.(imap.UIDSet)
	}
	return ok
}

func isNumSetChar(ch byte) bool {
	return ch == '*' || IsAtomChar(ch)
}

func (dec *Decoder) Literal(ptr *string) bool {
	lit, nonSync, ok := dec.LiteralReader()
	if !ok {
		return false
	}
	if dec.CheckBufferedLiteralFunc != nil {
		if err := dec.CheckBufferedLiteralFunc(lit.Size(), nonSync); err != nil {
			return dec.RefuseLiteral(lit, nonSync, err)
		}
	}
	var sb strings.Builder
	_, err := io.Copy(&sb, lit)
	if err == nil {
		*ptr = sb.String()
	}
	return dec.returnErr(err)
}

func (dec *Decoder) LiteralReader() (lit *LiteralReader, nonSync, ok bool) {
	if !dec.Special('{') {
		return nil, false, false
	}
	var size int64
	if !dec.ExpectNumber64(&size) {
		return nil, false, false
	}
	if dec.side == ConnSideServer {
		nonSync = dec.acceptByte('+')
	}
	// postdesk: not ExpectCRLF, which would end the command at the literal
	// for a bad mailbox name before it (APPEND checks MailboxNameErr).
	if !dec.ExpectSpecial('}') || !dec.Expect(dec.CRLF(), "CRLF") {
		return nil, false, false
	}
	// postdesk: the CRLF after a literal's size does not end the command,
	// which goes on after the literal's data (DiscardLine would think it
	// over and leave the rest of its line to be read as a command).
	dec.crlf = false
	dec.literal = true
	lit = &LiteralReader{
		dec:  dec,
		size: size,
		r:    io.LimitReader(dec.r, size),
	}
	return lit, nonSync, true
}

// RefuseLiteral ends the command at a literal the server does not accept,
// with err as the decoder error, and returns false.
//
// postdesk: the client sends a synchronizing literal only after a
// continuation request, so the command ended with the literal's size and
// nothing more is read for it (DiscardLine reads nothing). The data of a
// non-synchronizing literal follows anyway: it is read and dropped here, so
// that it is not taken for commands, and DiscardLine drops the rest of its
// line. Until DiscardLine, nothing more is decoded.
func (dec *Decoder) RefuseLiteral(lit *LiteralReader, nonSync bool, err error) bool {
	if nonSync {
		if _, copyErr := io.Copy(io.Discard, lit); copyErr != nil {
			err = copyErr
		}
	}
	lit.cancel()
	dec.returnErr(err)
	dec.crlf = !nonSync
	dec.stopped = true
	return false
}

func (dec *Decoder) ExpectLiteralReader() (lit *LiteralReader, nonSync bool, err error) {
	lit, nonSync, ok := dec.LiteralReader()
	if !dec.Expect(ok, "literal") {
		return nil, false, dec.Err()
	}
	return lit, nonSync, nil
}

type LiteralReader struct {
	dec  *Decoder
	size int64
	r    io.Reader
}

func newLiteralReaderFromString(s string) *LiteralReader {
	return &LiteralReader{
		size: int64(len(s)),
		r:    strings.NewReader(s),
	}
}

func (lit *LiteralReader) Size() int64 {
	return lit.size
}

func (lit *LiteralReader) Read(b []byte) (int, error) {
	n, err := lit.r.Read(b)
	if err == io.EOF {
		lit.cancel()
	}
	return n, err
}

func (lit *LiteralReader) cancel() {
	if lit.dec == nil {
		return
	}
	lit.dec.literal = false
	lit.dec = nil
}
