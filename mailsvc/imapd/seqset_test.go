package imapd

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// refResolve is the straightforward reading of RFC 9051 9 (seq-range)
// that resolve must agree with: every message of the view tested against
// every range, "*" the last sequence number or the highest UID, a:b the
// same as b:a.
func refResolve(view, searchRes []uint32, set imap.NumSet) []item {
	n := uint32(len(view))
	var last uint32
	if n > 0 {
		last = view[n-1]
	}
	in := func(x, a, b, star uint32) bool {
		if a == 0 {
			a = star
		}
		if b == 0 {
			b = star
		}
		if a > b {
			a, b = b, a
		}
		return x >= a && x <= b
	}
	var out []item
	for i, u := range view {
		seq := uint32(i + 1)
		ok := false
		if imap.IsSearchRes(set) {
			ok = slices.Contains(searchRes, u)
		} else {
			switch s := set.(type) {
			case imap.SeqSet:
				for _, r := range s {
					ok = ok || in(seq, r.Start, r.Stop, n)
				}
			case imap.UIDSet:
				for _, r := range s {
					ok = ok || in(u, uint32(r.Start), uint32(r.Stop), last)
				}
			}
		}
		if ok {
			out = append(out, item{seq, u})
		}
	}
	return out
}

// randomView returns sorted UIDs with gaps, as expunges leave them.
func randomView(r *rand.Rand) []uint32 {
	n := r.IntN(60)
	if r.IntN(10) == 0 {
		n = 0
	}
	view := make([]uint32, 0, n)
	u := uint32(r.IntN(5))
	for range n {
		u += uint32(1 + r.IntN(4))
		view = append(view, u)
	}
	return view
}

// randomRanges returns ranges in any order, overlapping or not, some
// reversed, some with "*" (0) or past the end, some at the top of the
// number space.
func randomRanges(r *rand.Rand, top uint32) [][2]uint32 {
	num := func() uint32 {
		switch r.IntN(12) {
		case 0, 1:
			return 0 // "*"
		case 2:
			return 1<<32 - 1 - uint32(r.IntN(2))
		}
		return uint32(1 + r.IntN(int(top)+10))
	}
	var out [][2]uint32
	for range 1 + r.IntN(8) {
		a := num()
		b := a
		if r.IntN(2) == 0 {
			b = num()
		}
		out = append(out, [2]uint32{a, b})
	}
	return out
}

func TestResolveMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		view := randomView(r)
		sel := &selected{view: view}
		var last uint32
		if len(view) > 0 {
			last = view[len(view)-1]
		}
		for _, u := range view {
			if r.IntN(3) == 0 {
				sel.searchRes = append(sel.searchRes, u)
			}
		}
		if r.IntN(4) == 0 {
			// $ may name UIDs expunged since.
			sel.searchRes = append(sel.searchRes, last+1)
		}
		var set imap.NumSet
		switch i % 5 {
		case 0, 1:
			var s imap.SeqSet
			for _, rg := range randomRanges(r, uint32(len(view))) {
				s = append(s, imap.SeqRange{Start: rg[0], Stop: rg[1]})
			}
			set = s
		case 2, 3:
			var s imap.UIDSet
			for _, rg := range randomRanges(r, last) {
				s = append(s, imap.UIDRange{Start: imap.UID(rg[0]), Stop: imap.UID(rg[1])})
			}
			set = s
		case 4:
			set = imap.SearchRes()
		}
		got, want := sel.resolve(set), refResolve(view, sel.searchRes, set)
		if !slices.Equal(got, want) {
			t.Fatalf("view %v, set %v ($ = %v):\n got %v\nwant %v", view, set, sel.searchRes, got, want)
		}
	}
}

// TestResolveEdges: the cases RFC 9051 spells out.
func TestResolveEdges(t *testing.T) {
	view := []uint32{3, 7, 8, 20}
	sel := &selected{view: view}
	for _, tc := range []struct {
		name string
		set  imap.NumSet
		want []item
	}{
		{"seq *", imap.SeqSet{{Start: 0, Stop: 0}}, []item{{4, 20}}},
		{"seq 3:*", imap.SeqSet{{Start: 3, Stop: 0}}, []item{{3, 8}, {4, 20}}},
		{"seq 9:* is 4:9", imap.SeqSet{{Start: 9, Stop: 0}}, []item{{4, 20}}},
		{"seq 4:2", imap.SeqSet{{Start: 4, Stop: 2}}, []item{{2, 7}, {3, 8}, {4, 20}}},
		{"seq past the end", imap.SeqSet{{Start: 5, Stop: 9}}, nil},
		{"seq overlapping", imap.SeqSet{{Start: 2, Stop: 3}, {Start: 1, Stop: 2}, {Start: 3, Stop: 3}}, []item{{1, 3}, {2, 7}, {3, 8}}},
		{"uid *", imap.UIDSet{{Start: 0, Stop: 0}}, []item{{4, 20}}},
		{"uid 21:* has the highest (RFC 9051 6.4.9)", imap.UIDSet{{Start: 21, Stop: 0}}, []item{{4, 20}}},
		{"uid 21:30 names nothing", imap.UIDSet{{Start: 21, Stop: 30}}, nil},
		{"uid 4:6 names nothing", imap.UIDSet{{Start: 4, Stop: 6}}, nil},
		{"uid 8:7", imap.UIDSet{{Start: 8, Stop: 7}}, []item{{2, 7}, {3, 8}}},
		{"uid to the top", imap.UIDSet{{Start: 8, Stop: 1<<32 - 1}}, []item{{3, 8}, {4, 20}}},
	} {
		if got := sel.resolve(tc.set); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	empty := &selected{}
	for _, set := range []imap.NumSet{imap.SeqSet{{Start: 0, Stop: 0}}, imap.UIDSet{{Start: 1, Stop: 0}}, imap.SearchRes()} {
		if got := empty.resolve(set); len(got) != 0 {
			t.Errorf("empty view, %v: got %v", set, got)
		}
	}
}

// bigView is a folder of 100,000 messages with every 7th expunged.
func bigView() []uint32 {
	var view []uint32
	for u := uint32(1); len(view) < 100000; u++ {
		if u%7 != 0 {
			view = append(view, u)
		}
	}
	return view
}

// oddRanges returns "1,3,5,...": n single-number ranges, as a client
// naming every other message sends them.
func oddRanges(n int) [][2]uint32 {
	out := make([][2]uint32, n)
	for i := range out {
		out[i] = [2]uint32{uint32(2*i + 1), uint32(2*i + 1)}
	}
	return out
}

func seqSetOf(rs [][2]uint32) imap.SeqSet {
	s := make(imap.SeqSet, len(rs))
	for i, r := range rs {
		s[i] = imap.SeqRange{Start: r[0], Stop: r[1]}
	}
	return s
}

func uidSetOf(rs [][2]uint32) imap.UIDSet {
	s := make(imap.UIDSet, len(rs))
	for i, r := range rs {
		s[i] = imap.UIDRange{Start: imap.UID(r[0]), Stop: imap.UID(r[1])}
	}
	return s
}

// BenchmarkResolve50kRanges resolves sets of 50,000 ranges on a view of
// 100,000 messages, as FETCH, STORE, COPY and MOVE do.
func BenchmarkResolve50kRanges(b *testing.B) {
	sel := &selected{view: bigView()}
	rs := oddRanges(50000)
	reversed := slices.Clone(rs)
	slices.Reverse(reversed)
	// 50,000 ranges each to the end of the folder: every message named
	// 50,000 times over.
	tails := make([][2]uint32, 50000)
	for i := range tails {
		tails[i] = [2]uint32{uint32(i + 1), 0}
	}
	for _, bc := range []struct {
		name string
		set  imap.NumSet
	}{
		{"seq", seqSetOf(rs)},
		{"seq-reversed", seqSetOf(reversed)},
		{"seq-tails", seqSetOf(tails)},
		{"uid", uidSetOf(rs)},
		{"uid-reversed", uidSetOf(reversed)},
		{"uid-tails", uidSetOf(tails)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if n := len(sel.resolve(bc.set)); n == 0 {
					b.Fatal("nothing resolved")
				}
			}
		})
	}
}

// BenchmarkSearch50kRanges runs SEARCH with a sequence set and a UID set
// of 50,000 ranges each over a folder of 100,000 messages.
func BenchmarkSearch50kRanges(b *testing.B) {
	it := newITest(b, tenantstest.Open(b, database.SQLite))
	it.fill(100000, nil)
	s := it.session()
	rs := oddRanges(50000)
	for _, bc := range []struct {
		name     string
		criteria *imap.SearchCriteria
	}{
		{"all", &imap.SearchCriteria{}}, // the cost of reading the rows, for comparison
		{"seq", &imap.SearchCriteria{SeqNum: []imap.SeqSet{seqSetOf(rs)}}},
		{"uid", &imap.SearchCriteria{UID: []imap.UIDSet{uidSetOf(rs)}}},
		{"not-uid", &imap.SearchCriteria{Not: []imap.SearchCriteria{{UID: []imap.UIDSet{uidSetOf(rs)}}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				d, err := s.Search(imapserver.NumKindUID, bc.criteria, &imap.SearchOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if d.Count == 0 {
					b.Fatal("nothing found")
				}
			}
		})
	}
}
