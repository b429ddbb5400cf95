package imapd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// searchUIDs runs a UID SEARCH and returns the matches.
func searchUIDs(t *testing.T, s *Session, k *imap.SearchCriteria, chunk int) []uint32 {
	t.Helper()
	d, err := s.search(imapserver.NumKindUID, k, &imap.SearchOptions{}, chunk)
	if err != nil {
		t.Fatalf("search %+v: %v", k, err)
	}
	var out []uint32
	for _, u := range d.All.(imap.UIDSet) {
		for x := u.Start; x <= u.Stop; x++ {
			out = append(out, uint32(x))
		}
	}
	return out
}

// expunge marks messages \Deleted and expunges them, in the store only:
// a selected session's view keeps them until it is told.
func (it *itest) expunge(uids []uint32) {
	it.tb.Helper()
	ctx := context.Background()
	f, err := it.st.Folder(ctx, it.mailbox, "INBOX")
	if err != nil {
		it.tb.Fatalf("folder: %v", err)
	}
	for _, r := range store.RangesOf(uids) {
		if _, err := it.st.StoreFlags(ctx, f.ID, []store.UIDRange{r}, store.FlagsAdd, store.Flags{store.FlagDeleted}); err != nil {
			it.tb.Fatalf("flag deleted: %v", err)
		}
	}
	if _, err := it.st.Expunge(ctx, f, uids); err != nil {
		it.tb.Fatalf("expunge: %v", err)
	}
}

// TestSearchChunks: SEARCH answers the same whatever number of messages
// it reads at a time, one query for all of them included, for sequence
// numbers and UIDs, with gaps in the UIDs and messages the session still
// shows that are gone from the store.
func TestSearchChunks(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		it := newITest(t, db)
		it.fill(1234, func(i int) store.Flags {
			var f store.Flags
			if i%3 == 0 {
				f = append(f, store.FlagSeen)
			}
			if i%5 == 0 {
				f = append(f, store.FlagFlagged)
			}
			if i%7 == 0 {
				f = append(f, "$k")
			}
			return f
		})
		var before, after []uint32
		for u := uint32(1); u <= 1234; u++ {
			switch {
			case u%11 == 0:
				before = append(before, u)
			case u%13 == 0:
				after = append(after, u)
			}
		}
		it.expunge(before)
		s := it.session()
		it.expunge(after)
		if len(s.sel.view) != 1234-len(before) {
			t.Fatalf("view of %d messages", len(s.sel.view))
		}
		s.sel.searchRes = []uint32{3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987}

		seq := func(a, b uint32) imap.SeqSet { return imap.SeqSet{{Start: a, Stop: b}} }
		uid := func(a, b uint32) imap.UIDSet { return imap.UIDSet{{Start: imap.UID(a), Stop: imap.UID(b)}} }
		for _, k := range []*imap.SearchCriteria{
			{},
			{Flag: []imap.Flag{imap.FlagSeen}},
			{NotFlag: []imap.Flag{imap.FlagSeen}, Flag: []imap.Flag{"$k"}},
			{Header: []imap.SearchCriteriaHeaderField{{Key: "X-Seq", Value: "12"}}},
			{SeqNum: []imap.SeqSet{{{Start: 5, Stop: 300}, {Start: 900, Stop: 0}}}},
			{UID: []imap.UIDSet{{{Start: 100, Stop: 200}, {Start: 1000, Stop: 0}}}, Flag: []imap.Flag{imap.FlagFlagged}},
			{SeqNum: []imap.SeqSet{seq(2, 800)}, UID: []imap.UIDSet{uid(500, 2000)}},
			{UID: []imap.UIDSet{imap.SearchRes()}},
			{SeqNum: []imap.SeqSet{seq(0, 0)}},
			{Not: []imap.SearchCriteria{{SeqNum: []imap.SeqSet{seq(1, 1000)}}}},
			{Or: [][2]imap.SearchCriteria{{{UID: []imap.UIDSet{uid(1, 50)}}, {Flag: []imap.Flag{imap.FlagSeen}}}}},
		} {
			for _, kind := range []imapserver.NumKind{imapserver.NumKindSeq, imapserver.NumKindUID} {
				var want *imap.SearchData
				for _, chunk := range []int{1 << 30, 7, 500} {
					got, err := s.search(kind, k, &imap.SearchOptions{}, chunk)
					if err != nil {
						t.Fatalf("search %+v: %v", k, err)
					}
					if want == nil {
						want = got
						if got.Count == 0 {
							t.Fatalf("%+v (%v) found nothing", k, kind)
						}
						continue
					}
					if got.All.String() != want.All.String() || got.Count != want.Count || got.Min != want.Min || got.Max != want.Max {
						t.Fatalf("%+v (%v) in chunks of %d: %v (%d, %d..%d), in one: %v (%d, %d..%d)", k, kind, chunk,
							got.All, got.Count, got.Min, got.Max, want.All, want.Count, want.Min, want.Max)
					}
				}
			}
		}
		// A few answers spelled out.
		if got := searchUIDs(t, s, &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "X-Seq", Value: "123"}}}, searchChunk); !slices.Equal(got, []uint32{123, 1123, 1230, 1231, 1233, 1234}) {
			t.Fatalf("X-Seq 123: %v (1232 was expunged)", got)
		}
		if got := searchUIDs(t, s, &imap.SearchCriteria{UID: []imap.UIDSet{imap.SearchRes()}}, searchChunk); !slices.Equal(got, []uint32{3, 5, 8, 21, 34, 89, 144, 233, 610, 987}) {
			t.Fatalf("$: %v (13, 55 and 377 were expunged)", got)
		}
	})
}

// TestSearchNumberSets: SEARCH's sequence and UID sets, at the top, under
// NOT and in OR, name the messages the reference resolver names.
func TestSearchNumberSets(t *testing.T) {
	it := newITest(t, tenantstest.Open(t, database.SQLite))
	it.fill(80, nil)
	var gone []uint32
	for u := uint32(1); u <= 80; u++ {
		if u%4 == 0 || u > 70 && u != 80 {
			gone = append(gone, u)
		}
	}
	it.expunge(gone)
	s := it.session()
	view := s.sel.view
	r := rand.New(rand.NewPCG(3, 4))
	randomSet := func() (imap.NumSet, []item) {
		var set imap.NumSet
		if r.IntN(2) == 0 {
			var ss imap.SeqSet
			for _, rg := range randomRanges(r, uint32(len(view))) {
				ss = append(ss, imap.SeqRange{Start: rg[0], Stop: rg[1]})
			}
			set = ss
		} else {
			var us imap.UIDSet
			for _, rg := range randomRanges(r, 80) {
				us = append(us, imap.UIDRange{Start: imap.UID(rg[0]), Stop: imap.UID(rg[1])})
			}
			set = us
		}
		return set, refResolve(view, nil, set)
	}
	crit := func(set imap.NumSet) imap.SearchCriteria {
		if ss, ok := set.(imap.SeqSet); ok {
			return imap.SearchCriteria{SeqNum: []imap.SeqSet{ss}}
		}
		return imap.SearchCriteria{UID: []imap.UIDSet{set.(imap.UIDSet)}}
	}
	uidsOf := func(items []item) []uint32 {
		var out []uint32
		for _, it := range items {
			out = append(out, it.uid)
		}
		return out
	}
	for i := range 500 {
		a, ra := randomSet()
		b, rb := randomSet()
		var k imap.SearchCriteria
		var want []uint32
		switch i % 4 {
		case 0: // both at the top: the candidates are narrowed by both
			k = crit(a)
			k.SeqNum, k.UID = append(k.SeqNum, crit(b).SeqNum...), append(k.UID, crit(b).UID...)
			for _, u := range uidsOf(ra) {
				if slices.Contains(uidsOf(rb), u) {
					want = append(want, u)
				}
			}
		case 1:
			k = imap.SearchCriteria{Not: []imap.SearchCriteria{crit(a)}}
			for _, u := range view {
				if !slices.Contains(uidsOf(ra), u) {
					want = append(want, u)
				}
			}
		case 2:
			k = imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{crit(a), crit(b)}}}
			for _, u := range view {
				if slices.Contains(uidsOf(ra), u) || slices.Contains(uidsOf(rb), u) {
					want = append(want, u)
				}
			}
		case 3:
			k = crit(a)
			want = uidsOf(ra)
		}
		if got := searchUIDs(t, s, &k, 7); !slices.Equal(got, want) {
			t.Fatalf("view %v\n%s:\n got %v\nwant %v", view, fmt.Sprintf("%+v", k), got, want)
		}
	}
}
