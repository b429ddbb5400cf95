package imapd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// Fetch answers FETCH (RFC 9051 6.4.5). Flags, dates, sizes, envelope and
// body structure come from the message rows and the metadata stored at
// delivery; headers too, as long as the stored header block has them.
// Only BODY[], BODY[TEXT] and part sections open the message body.
func (s *Session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	sel := s.sel
	items := sel.resolve(numSet)
	if len(items) == 0 {
		return nil
	}
	cols := store.MetaColumns{Envelope: options.Envelope, Structure: options.BodyStructure != nil}
	markSeen := false
	for _, bs := range options.BodySection {
		if len(bs.Part) == 0 && (bs.Specifier == imap.PartSpecifierHeader || bs.Specifier == imap.PartSpecifierText) {
			cols.Header = true
		}
		markSeen = markSeen || !bs.Peek
	}
	for _, bs := range options.BinarySection {
		markSeen = markSeen || !bs.Peek
	}
	markSeen = markSeen && !sel.readOnly
	uids := itemUIDs(items)
	rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, uids, cols)
	if err != nil {
		return s.fail(err, "fetch")
	}
	byUID := make(map[uint32]*store.MessageMeta, len(rows))
	for i := range rows {
		byUID[rows[i].UID] = &rows[i]
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
	if options.Flags || len(seenNow) > 0 {
		var kws []string
		for i := range rows {
			kws = append(kws, strings.Fields(rows[i].Keywords)...)
		}
		sel.announceDirect(kws)
	}

	for _, it := range items {
		m := byUID[it.uid]
		if m == nil {
			continue // expunged meanwhile; the client learns it at the next command
		}
		if err := s.fetchOne(w, it.seq, m, options, options.Flags || seenNow[it.uid]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) fetchOne(w *imapserver.FetchWriter, seq uint32, m *store.MessageMeta, options *imap.FetchOptions, flags bool) error {
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
	if options.InternalDate {
		resp.WriteInternalDate(m.InternalDate)
	}
	if options.RFC822Size {
		resp.WriteRFC822Size(m.Size)
	}
	if options.Envelope {
		env := &imap.Envelope{}
		if m.Envelope != "" {
			if err := json.Unmarshal([]byte(m.Envelope), env); err != nil {
				s.log.Warn("stored envelope unreadable", "uid", m.UID, "err", err)
			}
		}
		resp.WriteEnvelope(env)
	}
	if options.BodyStructure != nil {
		resp.WriteBodyStructure(structureOf(m))
	}
	var msg *store.MessageReader
	open := func() (*store.MessageReader, error) {
		if msg != nil {
			return msg, nil
		}
		r, err := s.st.Open(s.ctx, &m.Message)
		if err != nil {
			return nil, err
		}
		msg = r
		return r, nil
	}
	defer func() {
		if msg != nil {
			msg.Close()
		}
	}()
	for _, bs := range options.BodySection {
		if err := s.writeSection(resp, m, bs, open); err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySection {
		r, err := open()
		if err != nil {
			return s.fail(err, "fetch")
		}
		release, err := s.reserveExtract(r.Size())
		if err != nil {
			return err
		}
		b := imapserver.ExtractBinarySection(io.NewSectionReader(r, 0, r.Size()), bs)
		wc := resp.WriteBinarySection(bs, int64(len(b)))
		wc.Write(b)
		err = wc.Close()
		release()
		if err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySectionSize {
		r, err := open()
		if err != nil {
			return s.fail(err, "fetch")
		}
		resp.WriteBinarySectionSize(bs, imapserver.ExtractBinarySectionSize(io.NewSectionReader(r, 0, r.Size()), bs))
	}
	closed = true
	return resp.Close()
}

// structureOf returns the stored body structure.
func structureOf(m *store.MessageMeta) imap.BodyStructure {
	var p store.Part
	if m.Structure == "" || json.Unmarshal([]byte(m.Structure), &p) != nil || p.Type == "" {
		p = store.Part{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "us-ascii"}, Size: m.Size}
	}
	return p.IMAP()
}

// writeSection writes one BODY[...] item. The whole message and its text
// are streamed from the body; the header and header fields come from the
// stored header block; parts are cut out by go-imap's extractor.
func (s *Session) writeSection(resp *imapserver.FetchResponseWriter, m *store.MessageMeta, bs *imap.FetchItemBodySection, open func() (*store.MessageReader, error)) error {
	stream := func(off, size int64) error {
		r, err := open()
		if err != nil {
			return s.fail(err, "fetch")
		}
		off, n := partial(bs.Partial, off, size)
		wc := resp.WriteBodySection(bs, n)
		if _, err := io.Copy(wc, io.NewSectionReader(r, off, n)); err != nil {
			wc.Close()
			return fmt.Errorf("send message %d: %w", m.UID, err)
		}
		return wc.Close()
	}
	whole := len(bs.Part) == 0
	header := m.Prefix + m.Header
	switch {
	case whole && bs.Specifier == imap.PartSpecifierNone:
		return stream(0, m.Size)
	case whole && bs.Specifier == imap.PartSpecifierText && m.Header != "":
		start := int64(len(header))
		return stream(start, m.Size-start)
	case whole && bs.Specifier == imap.PartSpecifierHeader && m.Header != "":
		b := []byte(header)
		if len(bs.HeaderFields) > 0 || len(bs.HeaderFieldsNot) > 0 {
			b = filterHeader(b, bs.HeaderFields, bs.HeaderFieldsNot)
		}
		off, n := partial(bs.Partial, 0, int64(len(b)))
		wc := resp.WriteBodySection(bs, n)
		wc.Write(b[off : off+n])
		return wc.Close()
	}
	r, err := open()
	if err != nil {
		return s.fail(err, "fetch")
	}
	release, err := s.reserveExtract(r.Size())
	if err != nil {
		return err
	}
	defer release()
	b := imapserver.ExtractBodySection(io.NewSectionReader(r, 0, r.Size()), bs)
	wc := resp.WriteBodySection(bs, int64(len(b)))
	wc.Write(b)
	return wc.Close()
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
