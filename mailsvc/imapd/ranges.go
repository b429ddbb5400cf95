package imapd

import (
	"cmp"
	"slices"
	"sort"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// The store's writes take any number of UID ranges in one call, one
// transaction: a COPY or MOVE of "1,3,5,...,17199" is stored entirely or
// not at all, its quota checked once, and costs one transaction rather
// than one per range.

func (s *Session) storeFlags(folderID int64, uids []uint32, op store.FlagOp, fl store.Flags) ([]store.Message, error) {
	return s.st.StoreFlags(s.ctx, folderID, store.RangesOf(uids), op, fl)
}

func (s *Session) copyUIDs(src, dst *store.Folder, uids []uint32, quota int64) (*store.CopyResult, error) {
	return s.st.Copy(s.ctx, src, dst, store.RangesOf(uids), quota)
}

func (s *Session) moveUIDs(src, dst *store.Folder, uids []uint32) (*store.CopyResult, error) {
	return s.st.Move(s.ctx, src, dst, store.RangesOf(uids))
}

// Number sets (RFC 9051 9: sequence-set) are resolved against a session's
// view in two steps, so that a set's cost is O((ranges + matches) log n)
// and never ranges × folder size: a client may send thousands of ranges
// ("1,3,5,...") against a folder of 100,000 messages. First the set is
// normalised: "*" resolved, a:b turned into b:a where b < a, ranges cut
// to what the view can hold, then sorted and merged where they overlap or
// touch. Then each span is looked up in the view's sorted UIDs with a
// binary search.

// span is an inclusive range of sequence numbers or UIDs, lo <= hi.
type span struct{ lo, hi uint32 }

// normSeqSet normalises a sequence set for a view of n messages: "*" is
// n, and numbers past n name nothing.
func normSeqSet(set imap.SeqSet, n uint32) []span {
	if n == 0 {
		return nil
	}
	out := make([]span, 0, len(set))
	for _, r := range set {
		if s, ok := normRange(r.Start, r.Stop, n); ok {
			out = append(out, s)
		}
	}
	return mergeSpans(out)
}

// normUIDSet normalises a UID set for a view whose highest UID is last:
// "*" is last, so that n:* with n > last still names the last message
// (RFC 9051 6.4.9); UIDs above last name nothing.
func normUIDSet(set imap.UIDSet, last uint32) []span {
	if last == 0 {
		return nil
	}
	out := make([]span, 0, len(set))
	for _, r := range set {
		if s, ok := normRange(uint32(r.Start), uint32(r.Stop), last); ok {
			out = append(out, s)
		}
	}
	return mergeSpans(out)
}

// normRange resolves one range, whose 0s are "*", against star, the
// highest number there is, and cuts it to 1..star.
func normRange(a, b, star uint32) (span, bool) {
	if a == 0 {
		a = star
	}
	if b == 0 {
		b = star
	}
	if a > b {
		a, b = b, a
	}
	if a > star {
		return span{}, false
	}
	return span{a, min(b, star)}, true
}

// mergeSpans sorts spans and merges those that overlap or touch, in
// place.
func mergeSpans(s []span) []span {
	if len(s) < 2 {
		return s
	}
	if !slices.IsSortedFunc(s, cmpSpan) {
		slices.SortFunc(s, cmpSpan)
	}
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if uint64(x.lo) <= uint64(last.hi)+1 {
			last.hi = max(last.hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

func cmpSpan(a, b span) int { return cmp.Compare(a.lo, b.lo) }

// spansContain reports whether normalised spans hold x.
func spansContain(s []span, x uint32) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].hi >= x })
	return i < len(s) && s[i].lo <= x
}

// seqItems lists the messages of view that normalised sequence spans
// name.
func seqItems(view []uint32, spans []span) []item {
	total := 0
	for _, s := range spans {
		total += int(s.hi-s.lo) + 1
	}
	out := make([]item, 0, total)
	for _, s := range spans {
		for i := int(s.lo) - 1; i < int(s.hi); i++ {
			out = append(out, item{uint32(i + 1), view[i]})
		}
	}
	return out
}

// uidItems lists the messages of view (sorted UIDs) that normalised UID
// spans name. Each span's start is found by binary search in what
// follows the previous span.
func uidItems(view []uint32, spans []span) []item {
	var out []item
	from := 0
	for _, s := range spans {
		rest := view[from:]
		i := from + sort.Search(len(rest), func(i int) bool { return rest[i] >= s.lo })
		for ; i < len(view) && view[i] <= s.hi; i++ {
			out = append(out, item{uint32(i + 1), view[i]})
		}
		from = i
		if from == len(view) {
			break
		}
	}
	return out
}

// uidListItems lists the messages of view whose UIDs are in uids (sorted;
// those not in view are skipped), as for SEARCHRES's $ (RFC 5182).
func uidListItems(view, uids []uint32) []item {
	var out []item
	from := 0
	for _, u := range uids {
		rest := view[from:]
		i := from + sort.Search(len(rest), func(i int) bool { return rest[i] >= u })
		if i == len(view) {
			break
		}
		from = i
		if view[i] == u {
			out = append(out, item{uint32(i + 1), u})
			from++
		}
	}
	return out
}
