package imapd

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// fetchChunk is how many messages FETCH reads, marks \Seen and answers
// at a time, so that FETCH 1:* on a large folder never holds the rows
// (envelopes, structures, headers) of all its messages at once.
const fetchChunk = 500

// maxSectionHeader bounds a part's header that FETCH parses to answer
// BODY[n.MIME], BODY[n.HEADER] (.FIELDS, .FIELDS.NOT) and BINARY[]; a
// longer one is extracted the old way, within the extraction budget.
const maxSectionHeader = 64 << 10

// Fetch answers FETCH (RFC 9051 6.4.5). Flags, dates, sizes, envelope and
// body structure come from the message rows and the metadata stored at
// delivery; headers too, as long as the stored header block has them.
// Only BODY[], BODY[TEXT] and part sections open the message body, and
// those stream from it through the part offsets stored at delivery.
func (s *Session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	items := s.sel.resolve(numSet)
	// VANISHED (EARLIER) comes before the FETCH responses (RFC 7162
	// 3.2.6), also when no message of the set is left.
	if options.Vanished {
		if err := s.writeVanishedEarlier(w, numSet, options.ChangedSince); err != nil {
			return err
		}
	}
	if len(items) == 0 {
		return nil
	}
	cols := fetchColumns(options)
	markSeen := false
	for _, bs := range options.BodySection {
		markSeen = markSeen || !bs.Peek
	}
	for _, bs := range options.BinarySection {
		markSeen = markSeen || !bs.Peek
	}
	markSeen = markSeen && !s.sel.readOnly
	// items are in sequence order, which is UID order.
	for len(items) > 0 {
		n := min(len(items), fetchChunk)
		if err := s.fetchChunk(w, items[:n], options, cols, markSeen); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// fetchColumns says what of the rows and their blob metadata a FETCH
// needs.
func fetchColumns(options *imap.FetchOptions) store.MetaColumns {
	cols := store.MetaColumns{Envelope: options.Envelope, Structure: options.BodyStructure != nil}
	for _, bs := range options.BodySection {
		if len(bs.Part) == 0 && (bs.Specifier == imap.PartSpecifierHeader || bs.Specifier == imap.PartSpecifierText) {
			cols.Header = true
		}
		if len(bs.Part) > 0 {
			cols.Structure = true // the part offsets
		}
	}
	if len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0 || options.Preview {
		cols.Structure = true
	}
	// FETCH FLAGS, which clients send for whole folders, needs the flags
	// alone.
	cols.FlagsOnly = !options.InternalDate && !options.RFC822Size && !options.Envelope && options.BodyStructure == nil && !options.EmailID && !options.SaveDate &&
		len(options.BodySection) == 0 && len(options.BinarySection) == 0 && len(options.BinarySectionSize) == 0 && !options.Preview
	return cols
}

// fetchChunk answers FETCH for some of its messages: reads their rows,
// sets \Seen where a body fetch without PEEK asks for it, and writes
// their responses.
func (s *Session) fetchChunk(w *imapserver.FetchWriter, items []item, options *imap.FetchOptions, cols store.MetaColumns, markSeen bool) error {
	sel := s.sel
	uids := itemUIDs(items)
	rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, uids, cols)
	if err != nil {
		return s.fail(err, "fetch")
	}
	byUID := make(map[uint32]*store.MessageMeta, len(rows))
	for i := range rows {
		byUID[rows[i].UID] = &rows[i]
	}

	// BINARY of a part in an unknown encoding fails the command (RFC 9051
	// 6.4.5 [UNKNOWN-CTE]): found before \Seen is set on any message of
	// the chunk, so none is marked whose body was not sent.
	if markSeen && len(options.BinarySection)+len(options.BinarySectionSize) > 0 {
		for _, it := range items {
			if m := byUID[it.uid]; m != nil {
				f := &fetchMsg{s: s, m: m, haveStructure: cols.Structure}
				err := f.checkBinary(options)
				f.close()
				if err != nil {
					return err
				}
			}
		}
	}

	// Fetching a body without PEEK sets \Seen; the response then shows
	// the new flags (RFC 9051 6.4.5).
	seenNow := map[uint32]bool{}
	if markSeen {
		var unseen []uint32
		for _, u := range uids {
			if m := byUID[u]; m != nil && !m.Seen {
				unseen = append(unseen, u)
			}
		}
		if len(unseen) > 0 {
			changed, err := s.storeFlags(sel.folder.ID, unseen, store.FlagsAdd, store.Flags{store.FlagSeen})
			if err != nil {
				return s.fail(err, "fetch")
			}
			own := make(map[uint32]int64, len(changed))
			for _, m := range changed {
				own[m.UID] = m.ModSeq
				if r := byUID[m.UID]; r != nil {
					r.Seen, r.ModSeq = true, m.ModSeq
					seenNow[m.UID] = true
				}
			}
			if err := sel.hub.sync(s.ctx, sel, own); err != nil {
				s.log.Warn("sync folder", "err", err)
			}
		}
	}
	// New keywords are announced before the first response that shows
	// them; the previous chunk's responses are complete by now.
	if options.Flags || len(seenNow) > 0 {
		var kws []string
		for i := range rows {
			kws = append(kws, strings.Fields(rows[i].Keywords)...)
		}
		if err := sel.announceDirect(w, kws); err != nil {
			return err
		}
	}

	for _, it := range items {
		m := byUID[it.uid]
		if m == nil {
			continue // expunged meanwhile; the client learns it at the next command
		}
		// CHANGEDSINCE (RFC 7162 3.1.4.1): only messages changed after it.
		if options.ChangedSince > 0 && uint64(m.ModSeq) <= options.ChangedSince && !seenNow[it.uid] {
			continue
		}
		if err := s.fetchOne(w, it.seq, m, options, options.Flags || seenNow[it.uid], cols.Structure); err != nil {
			return err
		}
	}
	return nil
}

// fetchOne writes one message's FETCH response.
func (s *Session) fetchOne(w *imapserver.FetchWriter, seq uint32, m *store.MessageMeta, options *imap.FetchOptions, flags, haveStructure bool) error {
	f := &fetchMsg{s: s, m: m, haveStructure: haveStructure}
	defer f.close()
	// Found before anything of the message is written.
	if err := f.checkBinary(options); err != nil {
		return err
	}
	var preview string
	if options.Preview {
		var err error
		if preview, err = f.preview(); err != nil {
			return s.fail(err, "fetch preview")
		}
	}
	resp := w.CreateMessage(seq)
	closed := false
	defer func() {
		if !closed {
			resp.Close()
		}
	}()
	if options.UID {
		resp.WriteUID(imap.UID(m.UID))
	}
	if flags {
		resp.WriteFlags(s.sel.imapFlags(m.UID, m.Flags()))
	}
	// MODSEQ when asked, and with FLAGS once CONDSTORE is on (RFC 7162
	// 3.1.4).
	if options.ModSeq || flags && s.enabled(imap.CapCondStore) {
		resp.WriteModSeq(uint64(m.ModSeq))
	}
	if options.InternalDate {
		resp.WriteInternalDate(m.InternalTime()) // in the zone it was given in
	}
	if options.EmailID {
		resp.WriteEmailID(emailID(&m.Message))
	}
	if options.ThreadID {
		resp.WriteThreadID("") // NIL: THREADID is not kept (RFC 8474 5.2)
	}
	if options.Preview {
		resp.WritePreview(&preview)
	}
	if options.SaveDate {
		saved := m.SavedAt() // RFC 8514 4.1
		resp.WriteSaveDate(&saved)
	}
	if options.RFC822Size {
		resp.WriteRFC822Size(m.Size)
	}
	if options.Envelope {
		env, err := store.ParseEnvelope(m.Envelope)
		if err != nil {
			s.log.Warn("stored envelope unreadable", "uid", m.UID, "err", err)
		}
		resp.WriteEnvelope(env)
	}
	if options.BodyStructure != nil {
		resp.WriteBodyStructure(structureOf(m))
	}
	for _, bs := range options.BodySection {
		if err := f.writeSection(resp, bs); err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySection {
		if err := f.writeBinary(resp, bs); err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySectionSize {
		if err := f.writeBinarySize(resp, bs); err != nil {
			return err
		}
	}
	closed = true
	return resp.Close()
}

// structureOf returns the stored body structure.
func structureOf(m *store.MessageMeta) imap.BodyStructure {
	p, err := store.ParseStructure(m.Structure)
	if err != nil || p.Type == "" {
		p = &store.Part{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "us-ascii"}, Size: m.Size}
	}
	return p.IMAP()
}

// fetchMsg is one message being answered: its row, its stored structure
// with the part offsets (read and parsed on first use) and its body
// (opened on first use).
type fetchMsg struct {
	s             *Session
	m             *store.MessageMeta
	haveStructure bool // m.Structure was read with the row
	tree          *store.Part
	treeRead      bool
	r             *store.MessageReader
}

func (f *fetchMsg) open() (*store.MessageReader, error) {
	if f.r == nil {
		r, err := f.s.st.Open(f.s.ctx, &f.m.Message)
		if err != nil {
			return nil, err
		}
		f.r = r
	}
	return f.r, nil
}

func (f *fetchMsg) close() {
	if f.r != nil {
		f.r.Close()
	}
}

// sections returns the message's structure if it has the part offsets,
// nil if it was indexed without them (store.Part.HasOffsets).
func (f *fetchMsg) sections() (*store.Part, error) {
	if f.treeRead {
		return f.tree, nil
	}
	f.treeRead = true
	js := f.m.Structure
	if !f.haveStructure {
		// Only sections of the whole message get here, when its header
		// is longer than the row keeps.
		b, err := f.s.st.Blob(f.s.ctx, f.m.BlobKey)
		if err != nil {
			return nil, err
		}
		js = b.Structure
	}
	p, err := store.ParseStructure(js)
	if err != nil || !p.HasOffsets() {
		return nil, nil
	}
	// The offsets are the blob's; the message is the prefix and the blob.
	if p.BodyEnd+int64(len(f.m.Prefix)) != f.m.Size {
		f.s.log.Warn("stored part offsets do not fit the message", "uid", f.m.UID)
		return nil, nil
	}
	f.tree = p
	return f.tree, nil
}

// span returns where a part's header and body are in the message (so
// past the prefix): its header from hdr to body, its body from body to
// end. The message's own header begins with the prefix.
func (f *fetchMsg) span(p *store.Part) (hdr, body, end int64) {
	shift := int64(len(f.m.Prefix))
	if p == f.tree {
		return 0, p.BodyStart + shift, p.BodyEnd + shift
	}
	return p.HeaderStart + shift, p.BodyStart + shift, p.BodyEnd + shift
}

// header parses the header the message has from from to to; false if it
// is longer than maxSectionHeader.
func (f *fetchMsg) header(from, to int64) (textproto.Header, bool, error) {
	if to-from > maxSectionHeader {
		return textproto.Header{}, false, nil
	}
	r, err := f.open()
	if err != nil {
		return textproto.Header{}, false, err
	}
	h, err := textproto.ReadHeader(bufio.NewReader(io.NewSectionReader(r, from, to-from)))
	if err != nil {
		return textproto.Header{}, false, fmt.Errorf("read part header of message %d: %w", f.m.UID, err)
	}
	return h, true, nil
}

// locate finds the part a section's part number names, the way go-imap's
// section extractor does (findMessagePart, imapserver/message.go), whose
// answers clients have had so far: part 1 of a message that is not a
// multipart is the message itself; a number goes into a message/rfc822
// part's message first; below a part that is not a multipart, only 1 is
// a part, the part itself. nil if there is no such part.
func locate(root *store.Part, path []int) *store.Part {
	p := root
	if p.Type != "multipart" && len(path) > 0 && path[0] == 1 {
		path = path[1:]
	}
	for _, n := range path {
		p = openMessage(p)
		if p.Type != "multipart" {
			if n != 1 {
				return nil
			}
			continue
		}
		if n < 1 || n > len(p.Children) {
			return nil
		}
		p = &p.Children[n-1]
		if !p.HasOffsets() {
			return nil // the placeholder of a multipart without parts
		}
	}
	return p
}

// openMessage returns a message/rfc822 part's message, any other part
// itself (go-imap's openMessagePart).
func openMessage(p *store.Part) *store.Part {
	if p.Type == "message" && (p.Subtype == "rfc822" || p.Subtype == "global") && len(p.Children) == 1 {
		return &p.Children[0]
	}
	return p
}

// writeSection writes one BODY[...] item. The whole message and its text
// are streamed from the body; the header and header fields come from the
// stored header block; parts are streamed from the body between their
// stored offsets, their headers parsed from there.
func (f *fetchMsg) writeSection(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBodySection) error {
	m := f.m
	whole := len(bs.Part) == 0
	header := m.Prefix + m.Header
	switch {
	case whole && bs.Specifier == imap.PartSpecifierNone:
		return f.stream(resp, bs, 0, m.Size)
	case whole && bs.Specifier == imap.PartSpecifierText && m.Header != "":
		start := int64(len(header))
		return f.stream(resp, bs, start, m.Size-start)
	case whole && bs.Specifier == imap.PartSpecifierHeader && m.Header != "":
		b := []byte(header)
		if len(bs.HeaderFields) > 0 || len(bs.HeaderFieldsNot) > 0 {
			b = filterHeader(b, bs.HeaderFields, bs.HeaderFieldsNot)
		}
		return writeSectionBytes(resp, bs, b)
	}
	tree, err := f.sections()
	if err != nil {
		return f.s.fail(err, "fetch")
	}
	if tree != nil {
		done, err := f.writePartSection(resp, tree, bs)
		if done || err != nil {
			return err
		}
	}
	return f.extractSection(resp, bs)
}

// writePartSection answers a section from the part offsets; false if it
// cannot (a header past maxSectionHeader).
func (f *fetchMsg) writePartSection(resp *imapserver.FetchResponseWriter, tree *store.Part, bs *imap.FetchItemBodySection) (bool, error) {
	if len(bs.Part) == 0 {
		// The message's header is longer than the row keeps.
		_, body, end := f.span(tree)
		switch {
		case bs.Specifier == imap.PartSpecifierText:
			return true, f.stream(resp, bs, body, end-body)
		case bs.Specifier == imap.PartSpecifierHeader && len(bs.HeaderFields) == 0 && len(bs.HeaderFieldsNot) == 0:
			return true, f.stream(resp, bs, 0, body)
		}
		return false, nil
	}
	p := locate(tree, bs.Part)
	if p != nil && (bs.Specifier == imap.PartSpecifierHeader || bs.Specifier == imap.PartSpecifierText) {
		p = openMessage(p)
	}
	if p == nil {
		return true, writeSectionBytes(resp, bs, nil)
	}
	hdr, body, end := f.span(p)
	if bs.Specifier == imap.PartSpecifierNone || bs.Specifier == imap.PartSpecifierText {
		return true, f.stream(resp, bs, body, end-body)
	}
	// MIME and HEADER: the header as go-imap's extractor writes it,
	// parsed and written again (bare LF become CRLF, fields without a
	// name go), its fields filtered the same way.
	h, ok, err := f.header(hdr, body)
	if err != nil {
		return true, f.s.fail(err, "fetch")
	}
	if !ok {
		return false, nil
	}
	if len(bs.HeaderFields) > 0 {
		keep := make(map[string]struct{}, len(bs.HeaderFields))
		for _, k := range bs.HeaderFields {
			keep[strings.ToLower(k)] = struct{}{}
		}
		for field := h.Fields(); field.Next(); {
			if _, ok := keep[strings.ToLower(field.Key())]; !ok {
				field.Del()
			}
		}
	}
	for _, k := range bs.HeaderFieldsNot {
		h.Del(k)
	}
	var b bytes.Buffer
	if err := textproto.WriteHeader(&b, h); err != nil {
		b.Reset() // as go-imap: nothing
	}
	return true, writeSectionBytes(resp, bs, b.Bytes())
}

// stream writes a section that is the size bytes of the message at off,
// cut to the partial range asked for.
func (f *fetchMsg) stream(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBodySection, off, size int64) error {
	r, err := f.open()
	if err != nil {
		return f.s.fail(err, "fetch")
	}
	off, n := partial(bs.Partial, off, size)
	wc := resp.WriteBodySection(bs, n)
	// A body shorter than its row says ends the copy early without an
	// error; the literal must still be exactly n bytes.
	if k, err := io.Copy(wc, io.NewSectionReader(r, off, n)); err != nil || k != n {
		if err == nil {
			err = fmt.Errorf("body has %d of %d bytes", off+k, off+n)
		}
		return f.broken(err)
	}
	return wc.Close()
}

// broken ends the connection when a literal was announced and can't be
// sent whole (the body unreadable, the client gone): whatever came after
// it, a closing parenthesis or a tagged NO, the client would read as
// literal data.
func (f *fetchMsg) broken(err error) error {
	f.s.log.Warn("message not sent whole; closing the connection", "uid", f.m.UID, "err", err)
	f.s.cs.imap.NetConn().Close()
	return fmt.Errorf("send message %d: %w", f.m.UID, err)
}

func writeSectionBytes(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBodySection, b []byte) error {
	off, n := partial(bs.Partial, 0, int64(len(b)))
	wc := resp.WriteBodySection(bs, n)
	wc.Write(b[off : off+n])
	return wc.Close()
}

// extractSection answers a section with go-imap's extractor, which reads
// the whole message into memory, within the server's extraction budget.
// This is the fallback for rows indexed before part offsets were recorded,
// for messages the indexer stored without them (store.Part.HasOffsets),
// and for part headers longer than maxSectionHeader.
func (f *fetchMsg) extractSection(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBodySection) error {
	return f.extract(func(r *io.SectionReader) error {
		// The partial is cut here: go-imap adds offset and size unchecked,
		// and <1.9223372036854775807> would overflow into a panic.
		whole := *bs
		whole.Partial = nil
		return writeSectionBytes(resp, bs, imapserver.ExtractBodySection(r, &whole))
	})
}

// extract runs one of go-imap's extractors on the whole message, within
// the server's extraction budget.
func (f *fetchMsg) extract(run func(r *io.SectionReader) error) error {
	r, err := f.open()
	if err != nil {
		return f.s.fail(err, "fetch")
	}
	release, err := f.s.reserveExtract(r.Size())
	if err != nil {
		return err
	}
	defer release()
	return run(io.NewSectionReader(r, 0, r.Size()))
}

var errUnknownCTE = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnknownCTE,
	Text: "Unknown Content-Transfer-Encoding"}

// transferDecoding returns the transfer encoding BINARY undoes in a part
// (RFC 9051 6.4.5), false if it is one the server does not know. As in
// go-message, which go-imap's extractor decodes with, a multipart's is
// ignored.
func transferDecoding(p *store.Part) (string, bool) {
	if p.Type == "multipart" {
		return "", true
	}
	switch p.Encoding {
	case "quoted-printable", "base64":
		return p.Encoding, true
	case "", "7bit", "8bit", "binary":
		return "", true
	}
	return "", false
}

// checkBinary fails a FETCH of BINARY or BINARY.SIZE of a part in an
// unknown transfer encoding with UNKNOWN-CTE (RFC 9051 6.4.5; go-imap's
// extractor answers the empty string). Messages indexed without part
// offsets keep the extractor's answer.
func (f *fetchMsg) checkBinary(options *imap.FetchOptions) error {
	if len(options.BinarySection) == 0 && len(options.BinarySectionSize) == 0 {
		return nil
	}
	tree, err := f.sections()
	if err != nil {
		return f.s.fail(err, "fetch")
	}
	if tree == nil {
		return nil
	}
	parts := make([][]int, 0, len(options.BinarySection)+len(options.BinarySectionSize))
	for _, bs := range options.BinarySection {
		parts = append(parts, bs.Part)
	}
	for _, bs := range options.BinarySectionSize {
		parts = append(parts, bs.Part)
	}
	for _, part := range parts {
		if p := locate(tree, part); p != nil {
			if _, ok := transferDecoding(p); !ok {
				return errUnknownCTE
			}
		}
	}
	return nil
}

// binaryBody is a section as BINARY returns it (RFC 9051 6.4.5): for the
// whole message its header first, then the body with its transfer
// encoding undone, decoded as it streams.
type binaryBody struct {
	head      []byte
	r         io.ReaderAt
	off, size int64  // the body as stored
	enc       string // the transfer encoding to undo, "" for none
	readErr   error  // of the last reader opened: reading, not decoding
}

func (b *binaryBody) open() io.Reader {
	b.readErr = nil
	var body io.Reader = &errorNoter{r: io.NewSectionReader(b.r, b.off, b.size), err: &b.readErr}
	switch b.enc {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		// go-message's decoder takes spaces and tabs for line breaks.
		body = base64.NewDecoder(base64.StdEncoding, &spaceToLF{r: body})
	}
	return io.MultiReader(bytes.NewReader(b.head), body)
}

// length returns the section's length, decoding it once to count when it
// has a transfer encoding: the literal's size comes before its bytes.
// false if the body does not decode, which go-imap's extractor answers
// with the empty string.
func (b *binaryBody) length() (int64, bool, error) {
	if b.enc == "" {
		return int64(len(b.head)) + b.size, true, nil
	}
	n, err := io.Copy(io.Discard, b.open())
	if b.readErr != nil {
		return 0, false, b.readErr
	}
	if err != nil {
		return 0, false, nil
	}
	return n, true, nil
}

// errorNoter notes the first error of a read other than io.EOF, to tell a
// body that cannot be read from one that does not decode.
type errorNoter struct {
	r   io.Reader
	err *error
}

func (e *errorNoter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && *e.err == nil {
		*e.err = err
	}
	return n, err
}

type spaceToLF struct{ r io.Reader }

func (s *spaceToLF) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	for i, c := range p[:n] {
		if c == ' ' || c == '\t' {
			p[i] = '\n'
		}
	}
	return n, err
}

// binary returns what BINARY[part] answers from the part offsets: nil for
// no such part (the empty string); false if it cannot (no offsets, or a
// header past maxSectionHeader).
func (f *fetchMsg) binary(part []int) (*binaryBody, bool, error) {
	tree, err := f.sections()
	if err != nil || tree == nil {
		return nil, false, err
	}
	p := locate(tree, part)
	if p == nil {
		return nil, true, nil
	}
	enc, ok := transferDecoding(p)
	if !ok {
		return nil, true, errUnknownCTE
	}
	r, err := f.open()
	if err != nil {
		return nil, true, err
	}
	hdr, body, end := f.span(p)
	b := &binaryBody{r: r, off: body, size: end - body, enc: enc}
	if len(part) == 0 {
		h, ok, err := f.header(hdr, body)
		if err != nil || !ok {
			return nil, ok, err
		}
		var buf bytes.Buffer
		if err := textproto.WriteHeader(&buf, h); err != nil {
			return nil, true, nil // go-imap answers nothing
		}
		b.head = buf.Bytes()
	}
	return b, true, nil
}

// writeBinary writes one BINARY[...] item: the part decoded once to count
// and again to send, never held.
func (f *fetchMsg) writeBinary(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBinarySection) error {
	b, ok, err := f.binary(bs.Part)
	if err != nil {
		return f.s.fail(err, "fetch")
	}
	if !ok {
		return f.extractBinary(resp, bs)
	}
	var n int64
	if b != nil {
		if n, ok, err = b.length(); err != nil {
			return f.s.fail(err, "fetch")
		}
		if !ok {
			b, n = nil, 0
		}
	}
	off, size := partial(bs.Partial, 0, n)
	wc := resp.WriteBinarySection(bs, size)
	if b != nil && size > 0 {
		rd := b.open()
		_, err := io.CopyN(io.Discard, rd, off)
		if err == nil {
			_, err = io.CopyN(wc, rd, size)
		}
		if err != nil {
			return f.broken(err)
		}
	}
	return wc.Close()
}

// writeBinarySize writes one BINARY.SIZE[...] item.
func (f *fetchMsg) writeBinarySize(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBinarySectionSize) error {
	b, ok, err := f.binary(bs.Part)
	if err != nil {
		return f.s.fail(err, "fetch")
	}
	if !ok {
		return f.extractBinarySize(resp, bs)
	}
	var n int64
	if b != nil {
		if n, _, err = b.length(); err != nil {
			return f.s.fail(err, "fetch")
		}
	}
	resp.WriteBinarySectionSize(bs, uint32(min(n, math.MaxUint32)))
	return nil
}

// extractBinary and extractBinarySize are extractSection's fallback for
// BINARY and BINARY.SIZE.
func (f *fetchMsg) extractBinary(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBinarySection) error {
	return f.extract(func(r *io.SectionReader) error {
		whole := *bs // as in extractSection
		whole.Partial = nil
		b := imapserver.ExtractBinarySection(r, &whole)
		off, n := partial(bs.Partial, 0, int64(len(b)))
		wc := resp.WriteBinarySection(bs, n)
		wc.Write(b[off : off+n])
		return wc.Close()
	})
}

func (f *fetchMsg) extractBinarySize(resp *imapserver.FetchResponseWriter, bs *imap.FetchItemBinarySectionSize) error {
	return f.extract(func(r *io.SectionReader) error {
		resp.WriteBinarySectionSize(bs, imapserver.ExtractBinarySectionSize(r, bs))
		return nil
	})
}

// reserveExtract waits until a part extraction of a message of size bytes
// fits in the server's extraction budget (the extractor may hold the
// message and the part, hence twice its size).
func (s *Session) reserveExtract(size int64) (func(), error) {
	n := min(2*size, maxExtractMem)
	if err := s.srv.extractMem.Acquire(s.ctx, n); err != nil {
		return nil, fmt.Errorf("wait for extraction memory: %w", err)
	}
	return func() { s.srv.extractMem.Release(n) }, nil
}

// partial cuts <offset.size> (RFC 9051 6.4.5) out of a section of size
// bytes starting at off.
func partial(p *imap.SectionPartial, off, size int64) (int64, int64) {
	if p == nil {
		return off, size
	}
	if p.Offset >= size {
		return off + size, 0
	}
	return off + p.Offset, min(p.Size, size-p.Offset)
}

// filterHeader keeps (or, with not, drops) the named fields of a raw
// header block, as they are, with the blank line that ends the block.
func filterHeader(raw []byte, fields, not []string) []byte {
	want := func(name string) bool {
		if len(fields) > 0 {
			for _, f := range fields {
				if strings.EqualFold(f, name) {
					return true
				}
			}
			return false
		}
		for _, f := range not {
			if strings.EqualFold(f, name) {
				return false
			}
		}
		return true
	}
	var out bytes.Buffer
	keep := false
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		line := raw
		if i >= 0 {
			line = raw[:i+1]
		}
		raw = raw[len(line):]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // the end of the header
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := bytes.Cut(line, []byte(":"))
			keep = want(string(bytes.TrimSpace(name)))
		}
		if keep {
			out.Write(line)
		}
	}
	out.WriteString("\r\n")
	return out.Bytes()
}
