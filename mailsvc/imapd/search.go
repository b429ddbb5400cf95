package imapd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"sort"
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

// searchChunk is how many messages SEARCH reads the rows (and, for header
// keys, the header blocks) of at once: a search of a folder of 100,000
// messages holds that many, not the whole folder.
const searchChunk = 500

// Search answers SEARCH (RFC 9051 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC
// 5182). Flags, sizes and dates come from the message rows; header keys
// from the header block stored at delivery; only BODY and TEXT read
// message bodies, and only for messages the other keys let through.
func (s *Session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	return s.search(kind, criteria, options, searchChunk)
}

// search reads the candidates' rows chunk messages at a time, in view
// order. The candidates are the view, narrowed first by the number sets
// the criteria require of every match.
func (s *Session) search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions, chunk int) (*imap.SearchData, error) {
	sel := s.sel
	view := sel.view
	ev := &evaluator{s: s, n: uint32(len(view)), last: lastUID(view), now: time.Now()}
	crit := ev.compile(criteria)
	needHeader, _ := needs(criteria)
	cols := store.MetaColumns{Header: needHeader}

	data := &imap.SearchData{}
	// With the MODSEQ key, the result carries a modseq (RFC 7162 3.1.5,
	// RFC 4731 3.2): the highest of the messages found, or, when only
	// MIN or MAX is asked for, of the messages those name.
	withModSeq := searchUsesModSeq(criteria)
	var highest, minModSeq, maxModSeq int64
	var matched []uint32 // UIDs, in view order and so ascending
	var seqs imap.SeqSet
	idx := make([]int, 0, min(chunk, len(view))) // view positions of the chunk
	uids := make([]uint32, 0, min(chunk, len(view)))
	run := func() error {
		rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, uids, cols)
		if err != nil {
			return fmt.Errorf("read messages %d to %d: %w", uids[0], uids[len(uids)-1], err)
		}
		// rows is uids less the messages expunged meanwhile, in order.
		// This session still shows those (no EXPUNGE sent: not during
		// SEARCH, RFC 9051 7.5.1), but their rows are gone with the flags
		// and header a search reads, so they cannot be answered for: the
		// tagged OK says EXPUNGEISSUED instead (RFC 9051 7.1), and the
		// client knows the result may lack messages it still sees.
		j, found := 0, 0
		for r := range rows {
			m := &rows[r]
			for j < len(uids) && uids[j] < m.UID {
				j++
			}
			if j == len(uids) || uids[j] != m.UID {
				continue // a row outside uids (MessagesMeta may read a span)
			}
			found++
			c := &candidate{seq: uint32(idx[j] + 1), m: m}
			ok := ev.match(c, crit)
			if ev.err != nil {
				return ev.err
			}
			if !ok {
				continue
			}
			matched = append(matched, m.UID)
			num := m.UID
			if kind == imapserver.NumKindSeq {
				num = c.seq
				seqs.AddNum(c.seq)
			}
			if data.Min == 0 || num < data.Min {
				data.Min, minModSeq = num, m.ModSeq
			}
			if num > data.Max {
				data.Max, maxModSeq = num, m.ModSeq
			}
			highest = max(highest, m.ModSeq)
			data.Count++
		}
		if found < len(uids) {
			data.ExpungeIssued = true
		}
		idx, uids = idx[:0], uids[:0]
		return nil
	}
	for _, sp := range ev.candidates(crit) {
		for i := int(sp.lo); i <= int(sp.hi); i++ {
			idx, uids = append(idx, i), append(uids, view[i])
			if len(uids) == chunk {
				if err := run(); err != nil {
					return nil, s.fail(err, "search")
				}
			}
		}
	}
	if len(uids) > 0 {
		if err := run(); err != nil {
			return nil, s.fail(err, "search")
		}
	}

	if kind == imapserver.NumKindSeq {
		data.All = seqs
		if seqs == nil {
			data.All = imap.SeqSet{}
		}
	} else {
		data.All = uidSet(matched)
		if matched == nil {
			data.All = imap.UIDSet{}
		}
	}
	if options.ReturnSave {
		sel.searchRes = matched
	}
	if options.ReturnUpdate {
		if err := sel.addContext(options.Tag, kind, criteria, matched); err != nil {
			return nil, err
		}
	}
	if withModSeq && data.Count > 0 {
		data.ModSeq = uint64(highest)
		if !options.ReturnAll && !options.ReturnCount && !options.ReturnSave {
			data.ModSeq = 0
			if options.ReturnMin {
				data.ModSeq = uint64(minModSeq)
			}
			if options.ReturnMax {
				data.ModSeq = max(data.ModSeq, uint64(maxModSeq))
			}
		}
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
	br   *bufio.Reader // reused for every header parsed: one 4 KB buffer a search, not a message
	now  time.Time     // WITHIN's intervals end here
}

// compiled is search criteria with their number sets normalised
// (ranges.go), so that testing a message against a set of many ranges is
// a binary search.
type compiled struct {
	k   *imap.SearchCriteria
	seq []numFilter // k.SeqNum
	uid []numFilter // k.UID
	not []*compiled
	or  [][2]*compiled
}

// numFilter is one number set of the criteria.
type numFilter struct {
	res   bool   // SEARCHRES's $: the UIDs of the saved result
	spans []span // else the set, normalised
}

func (e *evaluator) compile(k *imap.SearchCriteria) *compiled {
	c := &compiled{k: k}
	for _, set := range k.SeqNum {
		if imap.IsSearchRes(set) {
			c.seq = append(c.seq, numFilter{res: true})
		} else {
			c.seq = append(c.seq, numFilter{spans: normSeqSet(set, e.n)})
		}
	}
	for _, set := range k.UID {
		if imap.IsSearchRes(set) {
			c.uid = append(c.uid, numFilter{res: true})
		} else {
			c.uid = append(c.uid, numFilter{spans: normUIDSet(set, e.last)})
		}
	}
	for i := range k.Not {
		c.not = append(c.not, e.compile(&k.Not[i]))
	}
	for i := range k.Or {
		c.or = append(c.or, [2]*compiled{e.compile(&k.Or[i][0]), e.compile(&k.Or[i][1])})
	}
	return c
}

// candidates returns the positions in the view (0-based spans) of the
// messages that the top level's number sets, which every match must be
// in, let through: the whole view if there are none.
func (e *evaluator) candidates(c *compiled) []span {
	view := e.s.sel.view
	if len(view) == 0 {
		return nil
	}
	out := []span{{0, uint32(len(view) - 1)}}
	byUID := func(items []item) []span {
		var s []span
		for _, it := range items {
			if n := len(s); n > 0 && s[n-1].hi+1 == it.seq-1 {
				s[n-1].hi++
				continue
			}
			s = append(s, span{it.seq - 1, it.seq - 1})
		}
		return s
	}
	for _, f := range c.seq {
		if f.res {
			out = intersectSpans(out, byUID(uidListItems(view, e.s.sel.searchRes)))
			continue
		}
		pos := make([]span, len(f.spans))
		for i, sp := range f.spans {
			pos[i] = span{sp.lo - 1, sp.hi - 1}
		}
		out = intersectSpans(out, pos)
	}
	for _, f := range c.uid {
		if f.res {
			out = intersectSpans(out, byUID(uidListItems(view, e.s.sel.searchRes)))
			continue
		}
		var pos []span
		for _, sp := range f.spans {
			i := sort.Search(len(view), func(i int) bool { return view[i] >= sp.lo })
			j := sort.Search(len(view), func(i int) bool { return view[i] > sp.hi })
			if i < j {
				pos = append(pos, span{uint32(i), uint32(j - 1)})
			}
		}
		out = intersectSpans(out, pos)
	}
	return out
}

// intersectSpans returns what two sorted lists of disjoint spans have in
// common.
func intersectSpans(a, b []span) []span {
	var out []span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].lo, b[j].lo), min(a[i].hi, b[j].hi)
		if lo <= hi {
			out = append(out, span{lo, hi})
		}
		if a[i].hi < b[j].hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// candidate is a message under test, with what was read for it.
type candidate struct {
	seq    uint32
	m      *store.MessageMeta
	header *textproto.Header // parsed lazily
	parsed bool
	body   *string           // lower-cased text of the body, lazily
	addrs  map[string]string // a field's value to its folded address text, lazily
}

func (e *evaluator) match(c *candidate, ck *compiled) bool {
	m, k := c.m, ck.k
	for _, f := range ck.seq {
		if f.res && !contains(e.s.sel.searchRes, m.UID) || !f.res && !spansContain(f.spans, c.seq) {
			return false
		}
	}
	for _, f := range ck.uid {
		if f.res && !contains(e.s.sel.searchRes, m.UID) || !f.res && !spansContain(f.spans, m.UID) {
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
	if k.ModSeq != nil && uint64(m.ModSeq) < k.ModSeq.ModSeq { // RFC 7162 3.1.5
		return false
	}
	// WITHIN (RFC 5032): the internal date against the search's now.
	if k.Older > 0 && !m.InternalDate.Before(e.now.Add(-time.Duration(k.Older)*time.Second)) {
		return false
	}
	if k.Younger > 0 && m.InternalDate.Before(e.now.Add(-time.Duration(k.Younger)*time.Second)) {
		return false
	}
	// OBJECTID (RFC 8474 6); no message has a THREADID.
	for _, id := range k.EmailID {
		if id != emailID(&m.Message) {
			return false
		}
	}
	if len(k.ThreadID) > 0 {
		return false
	}
	// SAVEDATE (RFC 8514 4.2): by the day of the save date, in UTC, where
	// it was recorded. SAVEDATESUPPORTED matches all: every folder keeps
	// save dates.
	if !k.SavedSince.IsZero() || !k.SavedBefore.IsZero() {
		d := day(m.SavedAt())
		if !k.SavedSince.IsZero() && d.Before(day(k.SavedSince)) || !k.SavedBefore.IsZero() && !d.Before(day(k.SavedBefore)) {
			return false
		}
	}
	if k.Smaller > 0 && m.Size >= k.Smaller {
		return false
	}
	// Dates compare by day, disregarding time and zone (RFC 9051 6.4.4):
	// the day of the internal date as written in its own zone, as
	// Dovecot does, so "25-Mar-2007 00:00:00 +0200" is ON 25-Mar-2007
	// whatever the server's zone.
	if !k.Since.IsZero() || !k.Before.IsZero() {
		d := day(m.InternalTime())
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
	for _, n := range ck.not {
		if e.match(c, n) {
			return false
		}
	}
	for _, o := range ck.or {
		if !e.match(c, o[0]) && !e.match(c, o[1]) {
			return false
		}
	}
	return true
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
		src := strings.NewReader(c.m.Prefix + e.rawHeader(c))
		if e.br == nil {
			e.br = bufio.NewReader(src)
		} else {
			e.br.Reset(src)
		}
		h, err := textproto.ReadHeader(e.br)
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
// (RFC 9051 6.4.4 HEADER); an empty value only needs the field. An
// address field also matches on its addresses as ENVELOPE reads them
// (addressText), so that "<user (comment)@ (comment) domain.org>" is
// found by FROM user@domain.org.
func (e *evaluator) headerHas(c *candidate, key, value string) bool {
	want := fold(value)
	return e.headerMayHave(c, key, want) && e.headerParsedHas(c, key, want)
}

// headerParsedHas is headerHas on the parsed header, want folded.
func (e *evaluator) headerParsedHas(c *candidate, key, want string) bool {
	h := e.parsedHeader(c)
	addrs := isAddressField(key)
	for f := h.FieldsByKey(key); f.Next(); {
		if want == "" {
			return true
		}
		raw := f.Value()
		if strings.Contains(fold(raw), want) || strings.Contains(fold(decodeHeader(raw)), want) {
			return true
		}
		if addrs && strings.Contains(c.addressText(raw), want) {
			return true
		}
	}
	return false
}

// headerMayHave is false when no field of the message can hold want
// (folded), found without parsing the header: parsing every header of a
// folder is most of what SEARCH SUBJECT or HEADER costs. It answers true
// whenever it cannot be sure, so it never changes a result: for an empty
// want (the field alone matches), an address field (addressText can hold
// what the raw text does not), a want with white space (unfolding joins a
// field's lines with one space), or a header with an encoded word (the
// decoded value can hold anything). Otherwise a field value is its raw
// lines, trimmed and joined by spaces, and a want without white space
// lies within one of those lines, so it is in the folded raw header.
func (e *evaluator) headerMayHave(c *candidate, key, want string) bool {
	if c.parsed || want == "" || isAddressField(key) || strings.ContainsAny(want, " \t\r\n") {
		return true
	}
	raw := e.rawHeader(c)
	if e.err != nil {
		return true
	}
	if strings.Contains(raw, "=?") || strings.Contains(c.m.Prefix, "=?") ||
		c.m.Prefix != "" && !strings.HasSuffix(c.m.Prefix, "\n") {
		return true
	}
	return containsFold(c.m.Prefix, want) || containsFold(raw, want)
}

// containsFold reports whether fold(s) contains want, which is folded
// already; for ASCII s without building fold(s).
func containsFold(s, want string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.Contains(fold(s), want)
		}
	}
	n := len(want)
	if n == 0 {
		return true
	}
	first := want[0]
	for i := 0; i+n <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < n && lowerASCII(s[i+j]) == want[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// maxAddressField bounds the address field value that is parsed for
// addresses: parsing costs about half a microsecond a byte, and a hostile
// 16 MB From on every message of a folder must not cost minutes a SEARCH.
const maxAddressField = 4 << 10

// addressText is the folded address text of an address field's value
// (addressText), parsed once per message whatever the number of criteria
// naming it. Only a value the plain text match can miss on is parsed: one
// with comments, quoted strings, escapes, encoded words or space around
// an "@".
func (c *candidate) addressText(raw string) string {
	if len(raw) > maxAddressField ||
		!strings.ContainsAny(raw, `("\=`) && !strings.Contains(raw, " @") && !strings.Contains(raw, "@ ") {
		return ""
	}
	if t, ok := c.addrs[raw]; ok {
		return t
	}
	if c.addrs == nil {
		c.addrs = map[string]string{}
	}
	t := fold(addressText(store.AddressList(raw)))
	c.addrs[raw] = t
	return t
}

// isAddressField says whether SEARCH on key is one of FROM, TO, CC and
// BCC, which RFC 9051 6.4.4 defines on the envelope's addresses. go-imap
// hands those over as HEADER criteria, so HEADER FROM gets the address
// match too; it only finds more than the text alone would.
func isAddressField(key string) bool {
	switch strings.ToLower(key) {
	case "from", "to", "cc", "bcc":
		return true
	}
	return false
}

// addressText writes addresses the way Dovecot matches them: "Name
// <mailbox@host>" or "mailbox@host", a group as "name: ...;", separated
// by ", ". A search string may so span the name and the address.
func addressText(l []imap.Address) string {
	var b strings.Builder
	sep := ""
	for _, a := range l {
		switch {
		case a.IsGroupEnd():
			b.WriteString(";")
			sep = ", "
		case a.IsGroupStart():
			b.WriteString(sep + a.Mailbox + ": ")
			sep = ""
		default:
			b.WriteString(sep)
			if a.Name != "" {
				b.WriteString(a.Name + " <" + a.Addr() + ">")
			} else {
				b.WriteString(a.Addr())
			}
			sep = ", "
		}
	}
	return b.String()
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
	return c.m.InternalTime()
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
