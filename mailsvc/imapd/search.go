package imapd

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// maxSearchBody bounds how much of one message body SEARCH BODY and TEXT
// read.
const maxSearchBody = 16 << 20

// Search answers SEARCH (RFC 9051 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC
// 5182). Flags, sizes and dates come from the message rows; header keys
// from the header block stored at delivery; only BODY and TEXT read
// message bodies, and only for messages the other keys let through.
func (s *Session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	sel := s.sel
	view := sel.view
	data := &imap.SearchData{}
	var matched []uint32
	if len(view) > 0 {
		needHeader, _ := needs(criteria)
		rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, view, store.MetaColumns{Header: needHeader})
		if err != nil {
			return nil, s.fail(err, "search")
		}
		byUID := make(map[uint32]*store.MessageMeta, len(rows))
		for i := range rows {
			byUID[rows[i].UID] = &rows[i]
		}
		ev := &evaluator{s: s, n: uint32(len(view)), last: view[len(view)-1]}
		for i, u := range view {
			m := byUID[u]
			if m == nil {
				continue
			}
			c := &candidate{seq: uint32(i + 1), m: m}
			if ev.match(c, criteria) {
				matched = append(matched, u)
				num := u
				if kind == imapserver.NumKindSeq {
					num = c.seq
				}
				if data.Min == 0 || num < data.Min {
					data.Min = num
				}
				data.Max = max(data.Max, num)
				data.Count++
			}
			if ev.err != nil {
				return nil, s.fail(ev.err, "search")
			}
		}
	}
	if kind == imapserver.NumKindSeq {
		var set imap.SeqSet
		for i, u := range view {
			if contains(matched, u) {
				set.AddNum(uint32(i + 1))
			}
		}
		data.All = set
	} else {
		data.All = uidSet(matched)
		if matched == nil {
			data.All = imap.UIDSet{}
		}
	}
	if data.All == nil {
		data.All = imap.SeqSet{}
	}
	if options.ReturnSave {
		sel.searchRes = matched
	}
	return data, nil
}

// needs reports whether criteria need the stored header or the body.
func needs(c *imap.SearchCriteria) (header, body bool) {
	header = len(c.Header) > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() || len(c.Text) > 0
	body = len(c.Body) > 0 || len(c.Text) > 0
	for i := range c.Not {
		h, b := needs(&c.Not[i])
		header, body = header || h, body || b
	}
	for i := range c.Or {
		for j := range c.Or[i] {
			h, b := needs(&c.Or[i][j])
			header, body = header || h, body || b
		}
	}
	return header, body
}

type evaluator struct {
	s    *Session
	n    uint32 // messages in the view: "*" of sequence sets
	last uint32 // last UID: "*" of UID sets
	err  error
}

// candidate is a message under test, with what was read for it.
type candidate struct {
	seq    uint32
	m      *store.MessageMeta
	header *textproto.Header // parsed lazily
	parsed bool
	body   *string // lower-cased text of the body, lazily
}

func (e *evaluator) match(c *candidate, k *imap.SearchCriteria) bool {
	m := c.m
	for _, set := range k.SeqNum {
		if imap.IsSearchRes(set) {
			if !contains(e.s.sel.searchRes, m.UID) {
				return false
			}
			continue
		}
		if !seqSetContains(set, c.seq, e.n) {
			return false
		}
	}
	for _, set := range k.UID {
		if imap.IsSearchRes(set) {
			if !contains(e.s.sel.searchRes, m.UID) {
				return false
			}
			continue
		}
		if !uidSetContains(set, m.UID, e.last) {
			return false
		}
	}
	for _, f := range k.Flag {
		if !e.hasFlag(m, f) {
			return false
		}
	}
	for _, f := range k.NotFlag {
		if e.hasFlag(m, f) {
			return false
		}
	}
	if k.Larger > 0 && m.Size <= k.Larger {
		return false
	}
	if k.Smaller > 0 && m.Size >= k.Smaller {
		return false
	}
	// Dates compare by day, disregarding time and zone (RFC 9051 6.4.4).
	if !k.Since.IsZero() || !k.Before.IsZero() {
		d := day(m.InternalDate)
		if !k.Since.IsZero() && d.Before(day(k.Since)) || !k.Before.IsZero() && !d.Before(day(k.Before)) {
			return false
		}
	}
	if !k.SentSince.IsZero() || !k.SentBefore.IsZero() {
		d := day(e.sentDate(c))
		if !k.SentSince.IsZero() && d.Before(day(k.SentSince)) || !k.SentBefore.IsZero() && !d.Before(day(k.SentBefore)) {
			return false
		}
	}
	for _, h := range k.Header {
		if !e.headerHas(c, h.Key, h.Value) {
			return false
		}
	}
	for _, t := range k.Body {
		if !strings.Contains(e.bodyText(c), fold(t)) {
			return false
		}
	}
	for _, t := range k.Text {
		if !strings.Contains(fold(m.Prefix+e.rawHeader(c)), fold(t)) && !e.headerDecodedHas(c, t) && !strings.Contains(e.bodyText(c), fold(t)) {
			return false
		}
	}
	for i := range k.Not {
		if e.match(c, &k.Not[i]) {
			return false
		}
	}
	for i := range k.Or {
		if !e.match(c, &k.Or[i][0]) && !e.match(c, &k.Or[i][1]) {
			return false
		}
	}
	return true
}

func seqSetContains(set imap.SeqSet, seq, n uint32) bool {
	for _, r := range set {
		a, b := r.Start, r.Stop
		if a == 0 {
			a = n
		}
		if b == 0 {
			b = n
		}
		if a > b {
			a, b = b, a
		}
		if seq >= a && seq <= b {
			return true
		}
	}
	return false
}

func (e *evaluator) hasFlag(m *store.MessageMeta, f imap.Flag) bool {
	switch strings.ToLower(string(f)) {
	case `\seen`:
		return m.Seen
	case `\answered`:
		return m.Answered
	case `\flagged`:
		return m.Flagged
	case `\deleted`:
		return m.Deleted
	case `\draft`:
		return m.Draft
	case `\recent`:
		return e.s.sel.recent[m.UID]
	}
	for _, k := range strings.Fields(m.Keywords) {
		if strings.EqualFold(k, string(f)) {
			return true
		}
	}
	return false
}

func day(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

func fold(s string) string { return strings.ToLower(s) }

// rawHeader returns the message's header block: stored, or read from the
// body when it was too long to store.
func (e *evaluator) rawHeader(c *candidate) string {
	if c.m.Header != "" {
		return c.m.Header
	}
	r, err := e.s.st.Open(e.s.ctx, &c.m.Message)
	if err != nil {
		e.err = err
		return ""
	}
	defer r.Close()
	br := bufio.NewReader(io.NewSectionReader(r, int64(len(c.m.Prefix)), r.Size()-int64(len(c.m.Prefix))))
	var b bytes.Buffer
	for b.Len() < maxSearchBody {
		line, err := br.ReadSlice('\n')
		b.Write(line)
		if err != nil || len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	c.m.Header = b.String()
	return c.m.Header
}

func (e *evaluator) parsedHeader(c *candidate) *textproto.Header {
	if !c.parsed {
		c.parsed = true
		h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(c.m.Prefix + e.rawHeader(c))))
		if err != nil {
			h = textproto.Header{}
		}
		c.header = &h
	}
	return c.header
}

func decodeHeader(v string) string {
	var dec mime.WordDecoder
	if d, err := dec.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// headerHas: a field named key whose value contains value, decoded or not
// (RFC 9051 6.4.4 HEADER); an empty value only needs the field.
func (e *evaluator) headerHas(c *candidate, key, value string) bool {
	h := e.parsedHeader(c)
	want := fold(value)
	for f := h.FieldsByKey(key); f.Next(); {
		if want == "" {
			return true
		}
		raw := f.Value()
		if strings.Contains(fold(raw), want) || strings.Contains(fold(decodeHeader(raw)), want) {
			return true
		}
	}
	return false
}

func (e *evaluator) headerDecodedHas(c *candidate, text string) bool {
	want := fold(text)
	for f := e.parsedHeader(c).Fields(); f.Next(); {
		if strings.Contains(fold(decodeHeader(f.Value())), want) {
			return true
		}
	}
	return false
}

// sentDate is the Date header's day in its own zone, or the internal date.
func (e *evaluator) sentDate(c *candidate) time.Time {
	if v := e.parsedHeader(c).Get("Date"); v != "" {
		if t, err := mail.ParseDate(v); err == nil {
			return t
		}
	}
	return c.m.InternalDate
}

// bodyText returns the lower-cased text of the message's body: its text
// parts, transfer encoding undone.
func (e *evaluator) bodyText(c *candidate) string {
	if c.body != nil {
		return *c.body
	}
	empty := ""
	c.body = &empty
	r, err := e.s.st.Open(e.s.ctx, &c.m.Message)
	if err != nil {
		e.err = err
		return ""
	}
	defer r.Close()
	ent, err := gomessage.Read(io.LimitReader(r, maxSearchBody))
	if ent == nil {
		return ""
	}
	_ = err // an unknown charset still gives the entity, with bytes as they are
	var b strings.Builder
	ent.Walk(func(path []int, part *gomessage.Entity, err error) error {
		if part == nil {
			return nil
		}
		t, _, _ := part.Header.ContentType()
		if t == "" || strings.HasPrefix(t, "text/") {
			data, _ := io.ReadAll(io.LimitReader(part.Body, maxSearchBody))
			b.Write(data)
			b.WriteByte('\n')
		}
		return nil
	})
	text := fold(b.String())
	c.body = &text
	return text
}
