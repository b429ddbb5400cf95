package imapd

import (
	"bufio"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// SORT and THREAD (RFC 5256) over the rows and envelopes stored at
// delivery: the search narrows the messages, then their sort keys are read
// searchChunk rows at a time and kept as small values (a base subject, an
// address, two dates, a size), so a sort holds no row or envelope beyond
// its chunk. A folder's messages past Server.maxSortMessages are refused
// with NO [LIMIT] rather than sorted: sorting is the whole folder's work
// and memory at once.

var (
	_ imapserver.SessionSort   = (*Session)(nil)
	_ imapserver.SessionThread = (*Session)(nil)
)

// defaultMaxSortMessages bounds the messages one SORT or THREAD orders.
const defaultMaxSortMessages = 200000

// maxThreadRefs bounds the References ids of one message THREAD links,
// the last ones (those nearest the message); maxThreadWalk bounds the
// walk up a thread looking for a loop, past which a link is not made.
const (
	maxThreadRefs = 100
	maxThreadWalk = 10000
)

// sortMsg is what SORT and THREAD know of one message.
type sortMsg struct {
	seq, uid  uint32
	arrival   time.Time
	sent      time.Time // the Date header's, or the internal date (RFC 5256 2.2)
	size      int64
	subject   string // base subject, ASCII upper-cased (i;ascii-casemap)
	reply     bool   // the subject was a reply or forward's
	from, to  string // first address's mailbox, upper-cased
	cc        string
	dispFrom  string // RFC 5957 display names, upper-cased
	dispTo    string
	messageID string
	refs      []string // References, else In-Reply-To's first
}

// SortDisplay: DISPLAYFROM and DISPLAYTO are supported (RFC 5957).
func (s *Session) SortDisplay() bool { return true }

// ThreadAlgorithms are THREAD's algorithms.
func (s *Session) ThreadAlgorithms() []imap.ThreadAlgorithm {
	return []imap.ThreadAlgorithm{imap.ThreadOrderedSubject, imap.ThreadReferences}
}

// Sort answers SORT (RFC 5256 3): the matches in the keys' order, ties in
// sequence order.
func (s *Session) Sort(kind imapserver.NumKind, criteria []imapserver.SortCriterion, search *imap.SearchCriteria) ([]uint32, error) {
	msgs, err := s.sortMessages(search, false)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(msgs, func(a, b *sortMsg) int {
		for _, c := range criteria {
			r := compareKey(a, b, c.Key)
			if c.Reverse {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]uint32, len(msgs))
	for i, m := range msgs {
		out[i] = m.num(kind)
	}
	return out, nil
}

func (m *sortMsg) num(kind imapserver.NumKind) uint32 {
	if kind == imapserver.NumKindUID {
		return m.uid
	}
	return m.seq
}

func compareKey(a, b *sortMsg, key imapserver.SortKey) int {
	switch key {
	case imapserver.SortKeyArrival:
		return a.arrival.Compare(b.arrival)
	case imapserver.SortKeyDate:
		return a.sent.Compare(b.sent)
	case imapserver.SortKeySize:
		return cmp.Compare(a.size, b.size)
	case imapserver.SortKeySubject:
		return strings.Compare(a.subject, b.subject)
	case imapserver.SortKeyFrom:
		return strings.Compare(a.from, b.from)
	case imapserver.SortKeyTo:
		return strings.Compare(a.to, b.to)
	case imapserver.SortKeyCc:
		return strings.Compare(a.cc, b.cc)
	case imapserver.SortKeyDisplayFrom:
		return strings.Compare(a.dispFrom, b.dispFrom)
	case imapserver.SortKeyDisplayTo:
		return strings.Compare(a.dispTo, b.dispTo)
	}
	return 0
}

// sortMessages reads the sort keys of the messages matching search, in
// sequence order; withRefs reads the header's References too.
func (s *Session) sortMessages(search *imap.SearchCriteria, withRefs bool) ([]*sortMsg, error) {
	sel := s.sel
	data, err := s.search(imapserver.NumKindUID, search, &imap.SearchOptions{ReturnAll: true}, searchChunk)
	if err != nil {
		return nil, err
	}
	uids, _ := data.All.(imap.UIDSet)
	items := sel.resolve(uids)
	if limit := s.srv.maxSortMessages; len(items) > limit {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit,
			Text: fmt.Sprintf("Too many messages to sort or thread: at most %d; narrow the search", limit)}
	}
	out := make([]*sortMsg, 0, len(items))
	cols := store.MetaColumns{Envelope: true, Header: withRefs}
	for start := 0; start < len(items); start += searchChunk {
		if err := s.ctx.Err(); err != nil {
			return nil, s.fail(err, "sort")
		}
		chunk := items[start:min(start+searchChunk, len(items))]
		rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, itemUIDs(chunk), cols)
		if err != nil {
			return nil, s.fail(err, "sort")
		}
		byUID := make(map[uint32]*store.MessageMeta, len(rows))
		for i := range rows {
			byUID[rows[i].UID] = &rows[i]
		}
		for _, it := range chunk {
			m := byUID[it.uid]
			if m == nil {
				continue // expunged meanwhile: as SEARCH, not answered for
			}
			out = append(out, s.sortKeys(it, m, withRefs))
		}
	}
	return out, nil
}

func (s *Session) sortKeys(it item, m *store.MessageMeta, withRefs bool) *sortMsg {
	sm := &sortMsg{seq: it.seq, uid: it.uid, arrival: m.InternalDate, sent: m.InternalDate, size: m.Size}
	env, err := store.ParseEnvelope(m.Envelope)
	if err != nil || env == nil {
		s.log.Warn("stored envelope unreadable", "uid", m.UID, "err", err)
		env = &imap.Envelope{}
	}
	if !env.Date.IsZero() {
		sm.sent = env.Date
	}
	sm.subject, sm.reply = baseSubject(env.Subject)
	sm.subject = casemap(sm.subject)
	sm.from, sm.dispFrom = addressKeys(env.From)
	sm.to, sm.dispTo = addressKeys(env.To)
	sm.cc, _ = addressKeys(env.Cc)
	sm.messageID = env.MessageID
	if withRefs {
		sm.refs = references(m.Header)
		if len(sm.refs) == 0 && len(env.InReplyTo) > 0 {
			sm.refs = env.InReplyTo[:1]
		}
	}
	return sm
}

// addressKeys gives SORT's keys of an address list: the first address's
// mailbox (RFC 5256 3: FROM, TO, CC; a group's name for a group) and its
// display name, or without one its address (RFC 5957), both upper-cased.
func addressKeys(l []imap.Address) (mailbox, display string) {
	if len(l) == 0 {
		return "", ""
	}
	a := l[0]
	display = a.Name
	if display == "" {
		display = a.Mailbox
		if a.Host != "" {
			display += "@" + a.Host
		}
	}
	return casemap(a.Mailbox), casemap(display)
}

// casemap is the i;ascii-casemap collation's key (RFC 4790 9.2): ASCII
// letters upper-cased, other bytes as they are.
func casemap(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// references reads the message ids of a raw header's References field.
func references(rawHeader string) []string {
	if rawHeader == "" {
		return nil
	}
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(rawHeader + "\r\n")))
	if err != nil {
		return nil
	}
	ids := msgIDs(h.Get("References"))
	if len(ids) > maxThreadRefs {
		ids = ids[len(ids)-maxThreadRefs:]
	}
	return ids
}

// msgIDs picks the "<...>" message ids out of a field, without brackets.
func msgIDs(v string) []string {
	var out []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return out
		}
		if id := strings.TrimSpace(v[i+1 : i+j]); id != "" {
			out = append(out, id)
		}
		v = v[i+j+1:]
	}
}

// baseSubject extracts a subject's base subject (RFC 5256 2.1) from its
// decoded text, and reports whether the subject was a reply's or a
// forward's (it had "Re:", "Fwd:", "(fwd)" or "[fwd: ...]").
func baseSubject(subject string) (string, bool) {
	// (1) Whitespace runs (tabs, folded lines) become one space.
	s := strings.Join(strings.FieldsFunc(subject, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}), " ")
	reply := false
	for {
		// (2) Trailing "(fwd)" and whitespace.
		for {
			t := strings.TrimRight(s, " ")
			if len(t) >= 5 && strings.EqualFold(t[len(t)-5:], "(fwd)") {
				t, reply = t[:len(t)-5], true
			}
			if t == s {
				break
			}
			s = t
		}
		// (3) and (4), until neither changes anything.
		for {
			t, r := trimLeader(s)
			reply = reply || r
			if rest, ok := trimBlob(t); ok && rest != "" {
				t = rest
			}
			if t == s {
				break
			}
			s = t
		}
		// (5) "[fwd: ...]" wrapped around the subject.
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s, reply = s[5:len(s)-1], true
			continue
		}
		return s, reply
	}
}

// trimLeader removes subj-leaders (RFC 5256 5): leading whitespace, and
// "Re:" or "Fw(d):" with the subj-blobs before and in them.
func trimLeader(s string) (string, bool) {
	reply := false
	for {
		if strings.HasPrefix(s, " ") {
			s = s[1:]
			continue
		}
		t := s
		for {
			rest, ok := trimBlob(t)
			if !ok {
				break
			}
			t = rest
		}
		var n int
		switch u := strings.ToLower(t); {
		case strings.HasPrefix(u, "re"):
			n = 2
		case strings.HasPrefix(u, "fwd"):
			n = 3
		case strings.HasPrefix(u, "fw"):
			n = 2
		default:
			return s, reply
		}
		t = strings.TrimLeft(t[n:], " ")
		if rest, ok := trimBlob(t); ok {
			t = rest
		}
		if !strings.HasPrefix(t, ":") {
			return s, reply
		}
		s, reply = t[1:], true
	}
}

// trimBlob removes a leading subj-blob: "[" text without brackets "]"
// and the whitespace after it.
func trimBlob(s string) (string, bool) {
	if !strings.HasPrefix(s, "[") {
		return s, false
	}
	end := strings.IndexAny(s[1:], "[]")
	if end < 0 || s[1+end] != ']' {
		return s, false
	}
	return strings.TrimLeft(s[end+2:], " "), true
}
