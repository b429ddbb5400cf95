package store

import (
	"sort"
	"strings"
)

// System flags (RFC 9051 2.3.2).
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Flags is a set of IMAP flags: the system ones and keywords.
type Flags []string

// MaxKeywords bounds the keywords of one message.
const MaxKeywords = 64

func (fl Flags) apply(m *Message) {
	kw := map[string]bool{}
	for _, k := range strings.Fields(m.Keywords) {
		kw[k] = true
	}
	for _, f := range fl {
		switch strings.ToLower(f) {
		case `\seen`:
			m.Seen = true
		case `\answered`:
			m.Answered = true
		case `\flagged`:
			m.Flagged = true
		case `\deleted`:
			m.Deleted = true
		case `\draft`:
			m.Draft = true
		default:
			if !strings.HasPrefix(f, `\`) && len(kw) < MaxKeywords {
				kw[f] = true
			}
		}
	}
	m.Keywords = joinKeywords(kw)
}

func joinKeywords(kw map[string]bool) string {
	ks := make([]string, 0, len(kw))
	for k := range kw {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// Flags returns a message's flags as IMAP names them.
func (m *Message) Flags() Flags {
	var out Flags
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Seen, FlagSeen}, {m.Answered, FlagAnswered}, {m.Flagged, FlagFlagged}, {m.Deleted, FlagDeleted}, {m.Draft, FlagDraft}} {
		if f.on {
			out = append(out, f.name)
		}
	}
	return append(out, strings.Fields(m.Keywords)...)
}

// FlagOp is how StoreFlags changes flags.
type FlagOp int

const (
	FlagsSet FlagOp = iota
	FlagsAdd
	FlagsDel
)

// change applies op to m and reports whether anything changed.
func (op FlagOp) change(m *Message, fl Flags) bool {
	before := m.Flags()
	switch op {
	case FlagsSet:
		n := Message{}
		fl.apply(&n)
		m.Seen, m.Answered, m.Flagged, m.Deleted, m.Draft, m.Keywords = n.Seen, n.Answered, n.Flagged, n.Deleted, n.Draft, n.Keywords
	case FlagsAdd:
		fl.apply(m)
	case FlagsDel:
		kw := map[string]bool{}
		for _, k := range strings.Fields(m.Keywords) {
			kw[k] = true
		}
		for _, f := range fl {
			switch strings.ToLower(f) {
			case `\seen`:
				m.Seen = false
			case `\answered`:
				m.Answered = false
			case `\flagged`:
				m.Flagged = false
			case `\deleted`:
				m.Deleted = false
			case `\draft`:
				m.Draft = false
			default:
				delete(kw, f)
			}
		}
		m.Keywords = joinKeywords(kw)
	}
	after := m.Flags()
	if len(before) != len(after) {
		return true
	}
	for i := range before {
		if before[i] != after[i] {
			return true
		}
	}
	return false
}
