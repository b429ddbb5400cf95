package imapd

import (
	"cmp"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Thread answers THREAD (RFC 5256 4) with ORDEREDSUBJECT or REFERENCES.
func (s *Session) Thread(kind imapserver.NumKind, algorithm imap.ThreadAlgorithm, search *imap.SearchCriteria) ([]imapserver.ThreadData, error) {
	msgs, err := s.sortMessages(search, algorithm == imap.ThreadReferences)
	if err != nil {
		return nil, err
	}
	if algorithm == imap.ThreadOrderedSubject {
		return orderedSubject(msgs, kind), nil
	}
	return threadReferences(msgs, kind), nil
}

// bySent orders messages by sent date, ties by sequence number (RFC 5256
// 2.2).
func bySent(a, b *sortMsg) int {
	if r := a.sent.Compare(b.sent); r != 0 {
		return r
	}
	return cmp.Compare(a.seq, b.seq)
}

// orderedSubject is ORDEREDSUBJECT: messages sorted by base subject and
// sent date, a thread per base subject whose first message is the parent
// of the others; threads in the order of their first message's sent date.
func orderedSubject(msgs []*sortMsg, kind imapserver.NumKind) []imapserver.ThreadData {
	slices.SortFunc(msgs, func(a, b *sortMsg) int {
		if r := cmp.Compare(a.subject, b.subject); r != 0 {
			return r
		}
		return bySent(a, b)
	})
	type thread struct {
		first *sortMsg
		rest  []*sortMsg
	}
	var threads []thread
	for _, m := range msgs {
		if n := len(threads); n > 0 && threads[n-1].first.subject == m.subject {
			threads[n-1].rest = append(threads[n-1].rest, m)
			continue
		}
		threads = append(threads, thread{first: m})
	}
	slices.SortStableFunc(threads, func(a, b thread) int { return bySent(a.first, b.first) })
	out := make([]imapserver.ThreadData, len(threads))
	for i, t := range threads {
		td := imapserver.ThreadData{Chain: []uint32{t.first.num(kind)}}
		if len(t.rest) == 1 {
			td.Chain = append(td.Chain, t.rest[0].num(kind))
		} else {
			for _, m := range t.rest {
				td.SubThreads = append(td.SubThreads, imapserver.ThreadData{Chain: []uint32{m.num(kind)}})
			}
		}
		out[i] = td
	}
	return out
}

// container is a node of REFERENCES's thread tree; msg nil is a dummy, a
// message referred to that is not in the mailbox.
type container struct {
	msg      *sortMsg
	parent   *container
	children []*container
}

// ancestorOf reports whether c is a or above it. The walk is bounded; a
// thread deeper than that counts as a loop, and is not linked further.
func (c *container) ancestorOf(a *container) bool {
	for n := 0; a != nil; n++ {
		if a == c || n == maxThreadWalk {
			return true
		}
		a = a.parent
	}
	return false
}

func (c *container) unlink() {
	if p := c.parent; p != nil {
		if i := slices.Index(p.children, c); i >= 0 {
			p.children = slices.Delete(p.children, i, i+1)
		}
		c.parent = nil
	}
}

func (c *container) adopt(child *container) {
	child.parent = c
	c.children = append(c.children, child)
}

// first is the message that stands for a container in comparisons: its
// own, or a dummy's first child's (children sorted).
func (c *container) first() *sortMsg {
	for c.msg == nil && len(c.children) > 0 {
		c = c.children[0]
	}
	return c.msg
}

// threadReferences is REFERENCES (RFC 5256 4), steps 1 to 6.
func threadReferences(msgs []*sortMsg, kind imapserver.NumKind) []imapserver.ThreadData {
	ids := map[string]*container{}
	var all []*container // every container, in the order made
	get := func(id string) *container {
		c := ids[id]
		if c == nil {
			c = &container{}
			ids[id] = c
			all = append(all, c)
		}
		return c
	}
	// (1) Link messages to their references.
	for _, m := range msgs {
		var c *container
		if m.messageID != "" {
			c = get(m.messageID)
		}
		if c == nil || c.msg != nil {
			// No id, or a duplicate of one seen: a message of its own.
			c = &container{}
			all = append(all, c)
		}
		c.msg = m
		var prev *container
		for _, id := range m.refs {
			rc := get(id)
			// Links already made stand; none that would make a loop.
			if prev != nil && rc.parent == nil && !rc.ancestorOf(prev) && !prev.ancestorOf(rc) {
				prev.adopt(rc)
			}
			prev = rc
		}
		// The message's own references decide its parent.
		c.unlink()
		if prev != nil && !c.ancestorOf(prev) {
			prev.adopt(c)
		}
	}
	// (2) The root set, (3) pruned of empty dummies.
	var roots []*container
	for _, c := range all {
		if c.parent == nil {
			roots = append(roots, c)
		}
	}
	roots = prune(roots, true)
	// (4) Sorted by date, for (5): threads whose roots have one base
	// subject are gathered.
	sortThreads(roots)
	roots = gatherSubjects(roots)
	// (6) Siblings sorted by date at every level.
	sortThreads(roots)
	out := make([]imapserver.ThreadData, len(roots))
	for i, c := range roots {
		out[i] = threadData(c, kind)
	}
	return out
}

// prune removes dummies without children, and those with children unless
// they are at the root with more than one: their children take their
// place (RFC 5256 4, step 3).
func prune(list []*container, root bool) []*container {
	out := list[:0:0]
	for _, c := range list {
		c.children = prune(c.children, false)
		if c.msg != nil {
			out = append(out, c)
			continue
		}
		switch {
		case len(c.children) == 0:
		case root && len(c.children) > 1:
			out = append(out, c)
		default:
			for _, ch := range c.children {
				ch.parent = c.parent
			}
			out = append(out, c.children...)
		}
	}
	return out
}

// sortThreads sorts each set of siblings by sent date, children before
// their parents, so a dummy compares by its first child (RFC 5256 4,
// step 6).
func sortThreads(list []*container) {
	for _, c := range list {
		sortThreads(c.children)
	}
	slices.SortStableFunc(list, func(a, b *container) int { return bySent(a.first(), b.first()) })
}

// gatherSubjects joins threads whose roots have the same base subject
// (RFC 5256 4, step 5).
func gatherSubjects(roots []*container) []*container {
	subj := func(c *container) (string, bool) {
		m := c.first()
		return m.subject, m.reply
	}
	table := map[string]*container{}
	for _, c := range roots {
		s, reply := subj(c)
		if s == "" {
			continue
		}
		t := table[s]
		_, treply := func() (string, bool) {
			if t == nil {
				return "", false
			}
			return subj(t)
		}()
		if t == nil || c.msg == nil && t.msg != nil || t.msg != nil && c.msg != nil && treply && !reply {
			table[s] = c
		}
	}
	removed := map[*container]bool{}
	var added []*container
	for _, c := range roots {
		s, reply := subj(c)
		t := table[s]
		if s == "" || t == nil || t == c || removed[c] {
			continue
		}
		_, treply := subj(t)
		switch {
		case t.msg == nil && c.msg == nil:
			for _, ch := range c.children {
				t.adopt(ch)
			}
			c.children = nil
			removed[c] = true
		case t.msg == nil:
			t.adopt(c)
			removed[c] = true
		case c.msg == nil:
			c.adopt(t)
			removed[t] = true
			table[s] = c
		case !treply && reply:
			t.adopt(c)
			removed[c] = true
		case treply && !reply:
			c.adopt(t)
			removed[t] = true
			table[s] = c
		default:
			d := &container{}
			d.adopt(t)
			d.adopt(c)
			removed[t], removed[c] = true, true
			added = append(added, d)
			table[s] = d
		}
	}
	out := make([]*container, 0, len(roots)+len(added))
	for _, c := range roots {
		if !removed[c] {
			out = append(out, c)
		}
	}
	return append(out, added...)
}

// threadData writes a thread: a chain while each message has one child.
func threadData(c *container, kind imapserver.NumKind) imapserver.ThreadData {
	var t imapserver.ThreadData
	for {
		if c.msg != nil {
			t.Chain = append(t.Chain, c.msg.num(kind))
		}
		if len(c.children) == 1 {
			c = c.children[0]
			continue
		}
		for _, ch := range c.children {
			t.SubThreads = append(t.SubThreads, threadData(ch, kind))
		}
		return t
	}
}
