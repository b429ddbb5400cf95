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
	kw := keywordSet(m)
	for _, f := range fl {
		if p := systemFlag(m, f); p != nil {
			*p = true
		} else if !strings.HasPrefix(f, `\`) && len(kw) < MaxKeywords {
			kw[f] = true
		}
	}
	m.Keywords = joinKeywords(kw)
}

// systemFlag points at the field of a system flag, or is nil for a keyword.
func systemFlag(m *Message, f string) *bool {
	switch strings.ToLower(f) {
	case `\seen`:
		return &m.Seen
	case `\answered`:
		return &m.Answered
	case `\flagged`:
		return &m.Flagged
	case `\deleted`:
		return &m.Deleted
	case `\draft`:
		return &m.Draft
	}
	return nil
}

func keywordSet(m *Message) map[string]bool {
	kw := map[string]bool{}
	for _, k := range strings.Fields(m.Keywords) {
		kw[k] = true
	}
	return kw
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
		kw := keywordSet(m)
		for _, f := range fl {
			if p := systemFlag(m, f); p != nil {
				*p = false
			} else {
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
