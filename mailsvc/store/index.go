package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// MIME limits, Dovecot's: past them a message is one opaque part, so that
// parsing never takes time that grows with a hostile nesting depth.
const (
	MaxMIMEDepth = 100
	MaxMIMEParts = 10000
	// maxStoredHeader bounds the header block kept in the database; longer
	// headers are read from the blob.
	maxStoredHeader = 64 << 10
)

var errMIMELimit = errors.New("MIME limits exceeded")

// Part is a MIME part's structure as IMAP BODYSTRUCTURE describes it, kept
// as JSON beside the message so FETCH never re-parses the body.
type Part struct {
	Type        string            `json:"t"`
	Subtype     string            `json:"s"`
	Params      map[string]string `json:"p,omitempty"`
	ID          string            `json:"id,omitempty"`
	Description string            `json:"d,omitempty"`
	Encoding    string            `json:"e,omitempty"`
	Size        int64             `json:"z"`
	Lines       int64             `json:"l,omitempty"`
	Disposition string            `json:"di,omitempty"`
	DispParams  map[string]string `json:"dp,omitempty"`
	Language    []string          `json:"la,omitempty"`
	Location    string            `json:"lo,omitempty"`
	// Envelope is set for message/rfc822 parts.
	Envelope *imap.Envelope `json:"en,omitempty"`
	// Children are a multipart's parts, or a message/rfc822's one body.
	Children []Part `json:"c,omitempty"`
	// HeaderStart, BodyStart and BodyEnd are where the part's header and
	// body are in the blob (the recipient's prefix not counted), so that
	// IMAP can serve part sections from a section of the blob instead of
	// parsing the message again. The header runs from HeaderStart to
	// BodyStart (blank line included), the body from BodyStart to BodyEnd,
	// as go-imap's section extractor cuts them. All three are 0 in rows
	// indexed before they were recorded, in the placeholder part of a
	// multipart without parts, and in messages that extractor could read
	// differently than Index does (see walker.unsure); HasOffsets tells.
	HeaderStart int64 `json:"ho,omitempty"`
	BodyStart   int64 `json:"bo,omitempty"`
	BodyEnd     int64 `json:"be,omitempty"`
}

// HasOffsets reports whether the part's offsets were recorded: every
// part's body ends after the first byte of the blob.
func (p *Part) HasOffsets() bool { return p.BodyEnd > 0 }

func (p *Part) clearOffsets() {
	p.HeaderStart, p.BodyStart, p.BodyEnd = 0, 0, 0
	for i := range p.Children {
		p.Children[i].clearOffsets()
	}
}

// Meta is what delivery learns of a message once, for every later FETCH,
// SEARCH and webmail list.
type Meta struct {
	Header         []byte // raw header block, up to maxStoredHeader
	Envelope       *imap.Envelope
	Structure      Part
	Subject        string // decoded
	From, To, Cc   string // decoded display lists
	MessageID      string
	SentAt         *time.Time
	HasAttachments bool
}

// Index parses a message for its Meta within the MIME limits. Whatever the
// message's bytes, it is indexed: mail that breaks the MIME rules (a
// multipart cut off before its closing boundary, a header line without a
// colon, NUL bytes, 8-bit junk) is still mail that real servers accept, so
// delivery must not refuse it over its structure. Only a failure to read
// r makes Index fail. What can't be parsed is indexed as far as it can be
// read, the way go-message reads it (the parts seen so far, the last one
// running to the end of the message), and without part offsets.
func Index(r io.ReaderAt, size int64) (*Meta, error) {
	src := readErrorAt{r}
	cr := &countReader{r: io.NewSectionReader(src, 0, size)}
	br := bufio.NewReaderSize(cr, 32<<10)
	h, err := textproto.ReadHeader(br)
	if isReadError(err) {
		return nil, fmt.Errorf("read message header: %w", err)
	}
	headerLen := cr.n - int64(br.Buffered())
	w := &walker{text: textBudget{left: maxStructureText}}
	if err != nil {
		// A message without a parsable header is still a message: one
		// opaque text part. go-imap's extractor finds no sections in it.
		h, headerLen = textproto.Header{}, 0
		w.unsure = true
	}
	m := &Meta{Envelope: boundEnvelope(envelope(h), &textBudget{left: maxEnvelopeText})}
	if headerLen > 0 && headerLen <= maxStoredHeader {
		m.Header = make([]byte, headerLen)
		if _, err := src.ReadAt(m.Header, 0); err != nil && err != io.EOF {
			return nil, fmt.Errorf("read message header: %w", err)
		}
		if !storable(m.Header) {
			// A text column can't hold it as it is (PostgreSQL refuses NUL
			// and invalid UTF-8), and changed it would no longer be the
			// message's header: FETCH and SEARCH read it from the blob.
			m.Header = nil
		}
	}
	mh := mail.Header{Header: gomessage.Header{Header: h}}
	m.Subject, _ = mh.Subject()
	m.Subject = clean(m.Subject)
	m.From = clean(addressList(mh, "From"))
	m.To = clean(addressList(mh, "To"))
	m.Cc = clean(addressList(mh, "Cc"))
	m.MessageID, _ = mh.MessageID()
	m.MessageID = clean(m.MessageID)
	if d, err := mh.Date(); err == nil && !d.IsZero() {
		d = d.UTC()
		m.SentAt = &d
	}
	body := io.NewSectionReader(src, headerLen, size-headerLen)
	p, err := w.part(h, body, headerLen, "", 0)
	switch {
	case isReadError(err):
		return nil, fmt.Errorf("read message: %w", err)
	case err != nil:
		// Past the MIME limits (errMIMELimit), or anything else the walk
		// could not get through: one opaque part, without offsets, as
		// go-imap's extractor knows no limits.
		p = opaque(h, size-headerLen)
	}
	if w.unsure {
		p.clearOffsets()
	}
	m.Structure = p
	m.HasAttachments = hasAttachment(p)
	return m, nil
}

// readErrorAt marks the errors of reading the message itself (other than
// io.EOF) as readErrors, so that the walk can tell them from the parse
// errors it reads through.
type readErrorAt struct{ r io.ReaderAt }

func (s readErrorAt) ReadAt(b []byte, off int64) (int, error) {
	n, err := s.r.ReadAt(b, off)
	if err != nil && err != io.EOF {
		err = &readError{err: err}
	}
	return n, err
}

// readError is a failure to read the message, the one error Index returns.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func isReadError(err error) bool {
	var re *readError
	return errors.As(err, &re)
}

// storable reports whether b can be kept in a text column as it is.
func storable(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

// clean makes a decoded header value storable in a text column: invalid
// UTF-8 (raw 8-bit bytes in a header) becomes U+FFFD, NUL bytes go. These
// values are for display, lists and sorting; the header keeps the bytes.
func clean(s string) string {
	if storable([]byte(s)) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
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

// lineCountReader counts the bytes and lines read through it.
type lineCountReader struct {
	r        io.Reader
	n, lines int64
}

func (c *lineCountReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.lines += int64(bytes.Count(b[:n], []byte{'\n'}))
	return n, err
}

func addressList(h mail.Header, key string) string {
	as, err := h.AddressList(key)
	if err != nil || len(as) == 0 {
		v, _ := h.Text(key)
		return v
	}
	var out []string
	for _, a := range as {
		if a.Name != "" {
			out = append(out, a.Name+" <"+a.Address+">")
		} else {
			out = append(out, a.Address)
		}
	}
	return strings.Join(out, ", ")
}

type walker struct {
	parts int
	// unsure is set when go-imap's section extractor (imapserver's
	// ExtractBodySection and findMessagePart), whose answers the recorded
	// offsets stand in for, would split the message differently than this
	// walk: then no offsets are kept and IMAP extracts sections the old way.
	// It happens for a Content-Type go-imap takes for a multipart that has
	// no usable boundary here, a part of a multipart/digest without
	// Content-Type (go-imap opens it as a message/rfc822, this walk reads
	// it as text/plain), an encapsulated message whose header does not
	// parse, a message whose own header does not, and a part cut off by
	// the end of the message before its multipart's boundary (drain).
	unsure bool
	// text bounds the text the structure keeps: parameters, ids,
	// descriptions, the envelopes of attached messages.
	text textBudget
	// visit, when set, is given every leaf (an attached message is one:
	// the walk does not descend into it) with its header and its body as
	// stored, before the walk reads on (walkLeaves); an error it returns
	// ends the walk.
	visit func(p *Part, h textproto.Header, body io.Reader) error
}

// part reads one entity: h is its header and body its body, which begins
// at offset start of the blob. parent is the media type of the nearest
// multipart around it, through encapsulated messages (go-imap's
// parentMediaType). The caller sets the HeaderStart of the part returned.
func (w *walker) part(h textproto.Header, body io.Reader, start int64, parent string, depth int) (Part, error) {
	w.parts++
	if depth > MaxMIMEDepth || w.parts > MaxMIMEParts {
		return Part{}, errMIMELimit
	}
	cb := &countReader{r: body}
	gh := gomessage.Header{Header: h}
	mt, params, err := gh.ContentType()
	// go-imap goes by ContentType's media type even when it does not parse
	// (it is the raw value then), and by the boundary parameter as it is.
	if strings.HasPrefix(mt, "multipart/") && (err != nil || params["boundary"] == "") {
		w.unsure = true
	}
	if parent == "multipart/digest" && !h.Has("Content-Type") {
		w.unsure = true
	}
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	typ, sub, _ := strings.Cut(mt, "/")
	// What the part keeps of its header is bounded (maxStructureText in
	// all); its type and encoding, which every part needs, by their own
	// small bound, so that MaxMIMEParts bounds them in all.
	tb := &w.text
	p := Part{Type: truncate(typ, maxTypeText), Subtype: truncate(sub, maxTypeText), Params: boundParams(params, tb),
		ID: tb.take(h.Get("Content-Id"), maxFieldText), Description: tb.take(h.Get("Content-Description"), maxFieldText),
		Encoding: truncate(strings.ToLower(h.Get("Content-Transfer-Encoding")), maxTypeText),
		Location: tb.take(h.Get("Content-Location"), maxFieldText), BodyStart: start}
	if d, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		p.Disposition, p.DispParams = truncate(d, maxTypeText), boundParams(dp, tb)
	}
	if l := h.Get("Content-Language"); l != "" {
		for _, v := range strings.Split(l, ",") {
			if len(p.Language) == maxLanguages {
				break
			}
			if v = tb.take(strings.TrimSpace(v), maxTypeText); v != "" {
				p.Language = append(p.Language, v)
			}
		}
	}
	// "multipart" without a subtype is one part to go-imap (it looks for
	// "multipart/"), so it is to us.
	if typ == "multipart" && sub != "" && params["boundary"] != "" {
		mr := newMultipartReader(cb, params["boundary"])
		for {
			cp, hs, bs, err := mr.nextPart()
			if isReadError(err) {
				return Part{}, err
			}
			if err != nil {
				break // the end, or a broken multipart: keep the parts read so far
			}
			c, err := w.part(cp.Header, cp, start+bs, mt, depth+1)
			if err != nil {
				return Part{}, err
			}
			c.HeaderStart = start + hs
			p.Children = append(p.Children, c)
		}
		// Count what follows the last boundary, so sizes stay honest.
		if err := w.drain(io.Discard, cb); err != nil {
			return Part{}, err
		}
		p.BodyEnd = start + cb.n
		if len(p.Children) == 0 {
			// A placeholder without offsets: go-imap finds no part here.
			p.Children = []Part{{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "us-ascii"}}}
		}
		return p, nil
	}
	if typ == "multipart" {
		p.Type, p.Subtype, p.Params = "text", "plain", map[string]string{"charset": "us-ascii"}
	}
	if w.visit != nil && (mt == "message/rfc822" || mt == "message/global") {
		cw := &countWriter{}
		if err := w.visit(&p, h, io.TeeReader(cb, cw)); err != nil {
			return Part{}, err
		}
		if err := w.drain(cw, cb); err != nil {
			return Part{}, err
		}
		p.Size, p.BodyEnd = cw.n, start+cb.n
		return p, nil
	}
	if mt == "message/rfc822" || mt == "message/global" {
		// The encapsulated message is parsed as it streams by, its size and
		// lines counted on the way: nothing of it is held.
		lc := &lineCountReader{r: cb}
		br := bufio.NewReader(lc)
		ch, err := textproto.ReadHeader(br)
		if isReadError(err) {
			return Part{}, err
		}
		if err == nil {
			hl := lc.n - int64(br.Buffered())
			eb := textBudget{left: min(maxEnvelopeText, w.text.left)}
			p.Envelope = boundEnvelope(envelope(ch), &eb)
			w.text.left -= min(maxEnvelopeText, w.text.left) - eb.left
			c, err := w.part(ch, br, start+hl, parent, depth+1)
			if err != nil {
				return Part{}, err
			}
			c.HeaderStart = start
			p.Children = []Part{c}
		} else {
			w.unsure = true // go-imap goes on with the fields read so far
		}
		if err := w.drain(io.Discard, br); err != nil {
			return Part{}, err
		}
		p.Size, p.Lines, p.BodyEnd = lc.n, lc.lines, start+cb.n
		return p, nil
	}
	cw := &countWriter{}
	if w.visit != nil {
		if err := w.visit(&p, h, io.TeeReader(cb, cw)); err != nil {
			return Part{}, err
		}
	}
	if err := w.drain(cw, cb); err != nil {
		return Part{}, err
	}
	p.Size, p.BodyEnd = cw.n, start+cb.n
	if typ == "text" {
		p.Lines = cw.lines
	}
	return p, nil
}

// drain reads a part's body to its end into dst. A failure to read the
// message is returned; any other error ends the part where the reading
// stopped. That is a multipart cut off before its closing boundary (its
// last part fails with io.ErrUnexpectedEOF at the end of the message, or
// of the enclosing part): the part keeps what was read, as go-message's
// readers have it, and the message loses its offsets, since go-imap's
// extractor gives no section for a part it can't read to the end.
func (w *walker) drain(dst io.Writer, body io.Reader) error {
	_, err := io.Copy(dst, body)
	if err == nil || isReadError(err) {
		return err
	}
	w.unsure = true
	return nil
}

func opaque(h textproto.Header, size int64) Part {
	return Part{Type: "application", Subtype: "octet-stream", Size: size}
}

type countWriter struct {
	n, lines int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	c.lines += int64(bytes.Count(b, []byte{'\n'}))
	return len(b), nil
}

func hasAttachment(p Part) bool {
	if strings.EqualFold(p.Disposition, "attachment") {
		return true
	}
	for _, c := range p.Children {
		if hasAttachment(c) {
			return true
		}
	}
	return false
}

// IMAP converts the stored structure to go-imap's type.
func (p *Part) IMAP() imap.BodyStructure {
	if p.Type == "multipart" {
		mp := &imap.BodyStructureMultiPart{Subtype: p.Subtype, Extended: &imap.BodyStructureMultiPartExt{
			Params: p.Params, Disposition: p.disposition(), Language: p.Language, Location: p.Location,
		}}
		for i := range p.Children {
			mp.Children = append(mp.Children, p.Children[i].IMAP())
		}
		return mp
	}
	sp := &imap.BodyStructureSinglePart{
		Type: p.Type, Subtype: p.Subtype, Params: p.Params, ID: p.ID, Description: p.Description,
		Encoding: p.Encoding, Size: uint32(min(p.Size, 1<<32-1)),
		Extended: &imap.BodyStructureSinglePartExt{Disposition: p.disposition(), Language: p.Language, Location: p.Location},
	}
	if sp.Encoding == "" {
		sp.Encoding = "7bit"
	}
	if p.Type == "text" {
		sp.Text = &imap.BodyStructureText{NumLines: p.Lines}
	}
	if p.Envelope != nil && len(p.Children) == 1 {
		sp.MessageRFC822 = &imap.BodyStructureMessageRFC822{Envelope: p.Envelope, BodyStructure: p.Children[0].IMAP(), NumLines: p.Lines}
	}
	return sp
}

func (p *Part) disposition() *imap.BodyStructureDisposition {
	if p.Disposition == "" {
		return nil
	}
	return &imap.BodyStructureDisposition{Value: p.Disposition, Params: p.DispParams}
}

// ParseEnvelope reads an envelope as Index stored it.
func ParseEnvelope(js string) (*imap.Envelope, error) {
	env := &imap.Envelope{}
	if js == "" {
		return env, nil
	}
	if err := unmarshal(js, env); err != nil {
		return env, fmt.Errorf("read stored envelope: %w", err)
	}
	return env, nil
}

// ParseStructure reads a body structure as Index stored it.
func ParseStructure(js string) (*Part, error) {
	p := &Part{}
	if err := unmarshal(js, p); err != nil {
		return nil, fmt.Errorf("read stored structure: %w", err)
	}
	return p, nil
}

// unmarshal decodes what marshal wrote, with the json package that
// becomes encoding/json/v2: FETCH ENVELOPE of 10,000 messages decodes
// 10,000 of them, at 1.5 µs each instead of encoding/json's 3.4 µs.
// (Switch to encoding/json/v2 once it leaves GOEXPERIMENT.)
func unmarshal(js string, v any) error {
	return jsonv2.Unmarshal([]byte(js), v)
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// multipartReader is go-message's textproto.MultipartReader (v0.18, itself
// Go's mime/multipart reader, BSD-style licence, The Go Authors), cut down
// to reading and made to tell where in its input each part's header and
// body begin. go-imap's section extractor splits multiparts with
// go-message's reader; the offsets Index records stand in for its answers,
// so they must come from the same algorithm, byte for byte (the imapd
// tests compare both): keep this in step with go-message.
type multipartReader struct {
	in        *countReader // what the buffer took from the input
	br        *bufio.Reader
	cur       *multipartPart
	partsRead int

	nl               []byte // "\r\n" or "\n" (set after seeing the first boundary line)
	nlDashBoundary   []byte // nl + "--boundary"
	dashBoundaryDash []byte // "--boundary--"
	dashBoundary     []byte // "--boundary"
}

// peekBufferSize is go-message's: at least 76, so that
// "\r\n--separator_of_len_70-" fits in the buffer.
const peekBufferSize = 4096

func newMultipartReader(r io.Reader, boundary string) *multipartReader {
	b := []byte("\r\n--" + boundary + "--")
	in := &countReader{r: &stickyErrorReader{r: r}}
	return &multipartReader{
		in:               in,
		br:               bufio.NewReaderSize(in, peekBufferSize),
		nl:               b[:2],
		nlDashBoundary:   b[:len(b)-2],
		dashBoundaryDash: b[2:],
		dashBoundary:     b[2 : len(b)-2],
	}
}

// pos is the offset in the input of the next byte the reader hands out.
func (r *multipartReader) pos() int64 { return r.in.n - int64(r.br.Buffered()) }

// stickyErrorReader never calls Read on its reader again after an error
// (the reader reads on after errors; io.Reader promises nothing then).
type stickyErrorReader struct {
	r   io.Reader
	err error
}

func (r *stickyErrorReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.r.Read(p)
	r.err = err
	return n, err
}

// nextPart returns the next part, where its header begins and where its
// body begins (offsets in the reader's input), or io.EOF after the last.
func (r *multipartReader) nextPart() (*multipartPart, int64, int64, error) {
	if r.cur != nil {
		io.Copy(io.Discard, r.cur)
	}
	if string(r.dashBoundary) == "--" {
		return nil, 0, 0, errors.New("multipart: boundary is empty")
	}
	expectNewPart := false
	for {
		line, err := r.br.ReadSlice('\n')
		if err == io.EOF && r.isFinalBoundary(line) {
			// "--boundary--" at the very end, without a line break.
			return nil, 0, 0, io.EOF
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("multipart: next part: %w", err)
		}
		if r.isBoundaryDelimiterLine(line) {
			r.partsRead++
			hs := r.pos()
			h, err := textproto.ReadHeader(r.br)
			if err != nil {
				return nil, 0, 0, err
			}
			r.cur = &multipartPart{Header: h, mr: r}
			return r.cur, hs, r.pos(), nil
		}
		if r.isFinalBoundary(line) {
			return nil, 0, 0, io.EOF
		}
		if expectNewPart {
			return nil, 0, 0, fmt.Errorf("multipart: expecting a new part; got line %q", line)
		}
		if r.partsRead == 0 {
			continue // the preamble
		}
		// The line break between the previous part's body and the
		// boundary line expected next.
		if bytes.Equal(line, r.nl) {
			expectNewPart = true
			continue
		}
		return nil, 0, 0, fmt.Errorf("multipart: unexpected line %q", line)
	}
}

// isFinalBoundary matches `^--boundary--[ \t]*(\r\n)?$`.
func (r *multipartReader) isFinalBoundary(line []byte) bool {
	if !bytes.HasPrefix(line, r.dashBoundaryDash) {
		return false
	}
	rest := skipLWSPChar(line[len(r.dashBoundaryDash):])
	return len(rest) == 0 || bytes.Equal(rest, r.nl)
}

// isBoundaryDelimiterLine matches a boundary line (RFC 2046 5.1: the
// boundary, optional linear white space, a line break).
func (r *multipartReader) isBoundaryDelimiterLine(line []byte) bool {
	if !bytes.HasPrefix(line, r.dashBoundary) {
		return false
	}
	rest := skipLWSPChar(line[len(r.dashBoundary):])
	// Lines ending in "\n" alone on the first boundary switch the reader
	// to bare LF: against the RFC, but found in practice.
	if r.partsRead == 0 && len(rest) == 1 && rest[0] == '\n' {
		r.nl = r.nl[1:]
		r.nlDashBoundary = r.nlDashBoundary[1:]
	}
	return bytes.Equal(rest, r.nl)
}

func skipLWSPChar(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// multipartPart reads one part's body: raw bytes, no transfer decoding,
// up to the line break before the next boundary.
type multipartPart struct {
	Header textproto.Header

	mr      *multipartReader
	n       int   // known data bytes waiting in mr.br
	total   int64 // data bytes read already
	err     error // to return when n == 0
	readErr error // read error seen from mr.br
}

func (p *multipartPart) Read(d []byte) (int, error) {
	br := p.mr.br
	// Read into the buffer until some data can be returned, or there is
	// a reason to stop (a boundary, a read error).
	for p.n == 0 && p.err == nil {
		peek, _ := br.Peek(br.Buffered())
		p.n, p.err = scanUntilBoundary(peek, p.mr.dashBoundary, p.mr.nlDashBoundary, p.total, p.readErr)
		if p.n == 0 && p.err == nil {
			_, p.readErr = br.Peek(len(peek) + 1)
			if p.readErr == io.EOF {
				p.readErr = io.ErrUnexpectedEOF
			}
		}
	}
	if p.n == 0 {
		return 0, p.err
	}
	n := min(len(d), p.n)
	n, _ = br.Read(d[:n])
	p.total += int64(n)
	p.n -= n
	if p.n == 0 {
		return n, p.err
	}
	return n, nil
}

// scanUntilBoundary returns how many bytes of buf are body data for sure,
// and the error to return once they are read. dashBoundary is
// "--boundary", nlDashBoundary "\r\n--boundary" or "\n--boundary"; total
// is the body bytes read so far (at 0, a leading "--boundary" counts);
// readErr the error that followed reading buf.
func scanUntilBoundary(buf, dashBoundary, nlDashBoundary []byte, total int64, readErr error) (int, error) {
	if total == 0 {
		if bytes.HasPrefix(buf, dashBoundary) {
			switch matchAfterPrefix(buf, dashBoundary, readErr) {
			case -1:
				return len(dashBoundary), nil
			case 0:
				return 0, nil
			case +1:
				return 0, io.EOF
			}
		}
		if bytes.HasPrefix(dashBoundary, buf) {
			return 0, readErr
		}
	}
	if i := bytes.Index(buf, nlDashBoundary); i >= 0 {
		switch matchAfterPrefix(buf[i:], nlDashBoundary, readErr) {
		case -1:
			return i + len(nlDashBoundary), nil
		case 0:
			return i, nil
		case +1:
			return i, io.EOF
		}
	}
	if bytes.HasPrefix(nlDashBoundary, buf) {
		return 0, readErr
	}
	// Up to the last line break is body; from it on, too, unless it may
	// begin a boundary.
	i := bytes.LastIndexByte(buf, nlDashBoundary[0])
	if i >= 0 && bytes.HasPrefix(nlDashBoundary, buf[i:]) {
		return i, nil
	}
	return len(buf), readErr
}

// matchAfterPrefix tells whether buf, which begins with prefix (a
// boundary), is a boundary: +1 if what follows is a dash, space, tab, CR,
// LF or the end of input, -1 if it is anything else, 0 if more input is
// needed to tell.
func matchAfterPrefix(buf, prefix []byte, readErr error) int {
	if len(buf) == len(prefix) {
		if readErr != nil {
			return +1
		}
		return 0
	}
	switch buf[len(prefix)] {
	case ' ', '\t', '\r', '\n', '-':
		return +1
	}
	return -1
}
