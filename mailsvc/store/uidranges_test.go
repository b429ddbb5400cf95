package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestNormRanges(t *testing.T) {
	for _, tc := range []struct {
		in   []store.UIDRange
		want string
	}{
		{nil, "[]"}, // every UID
		{[]store.UIDRange{}, "[]"},
		{[]store.UIDRange{{5, 5}, {1, 1}, {3, 3}}, "[{1 1} {3 3} {5 5}]"},
		{[]store.UIDRange{{1, 3}, {4, 6}, {6, 9}, {11, 11}}, "[{1 9} {11 11}]"},
		{[]store.UIDRange{{2, 8}, {3, 4}}, "[{2 8}]"},
		{[]store.UIDRange{{7, 0}, {3, 3}, {9, 12}, {6, 6}}, "[{3 3} {6 0}]"},
		{[]store.UIDRange{{5, 1}, {2, 2}}, "[{2 2}]"}, // 5:1 names nothing, as BETWEEN has it
		{[]store.UIDRange{{5, 1}}, "[]"},
		{[]store.UIDRange{{1<<32 - 2, 1<<32 - 1}, {1, 1}}, "[{1 1} {4294967294 4294967295}]"},
	} {
		got := store.NormRanges(tc.in)
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%v: got %v, want %s", tc.in, got, tc.want)
		}
		if (tc.in == nil) != (got == nil) {
			t.Errorf("%v: nil (every UID) is %v, got nil %v", tc.in, tc.in == nil, got == nil)
		}
	}
}

// fill delivers n messages to a mailbox's INBOX, UIDs 1 to n, a hundred
// to a delivery.
func fill(t *testing.T, s *store.Store, mailbox int64, n int) {
	t.Helper()
	for start := 0; start < n; start += 100 {
		var rcpts []store.Rcpt
		for i := start; i < min(n, start+100); i++ {
			rcpts = append(rcpts, store.Rcpt{MailboxID: mailbox, Prefix: fmt.Sprintf("X-Seq: %d\r\n", i+1)})
		}
		deliver(t, s, msg1, rcpts...)
	}
}

func uidsOf(ms []store.Message) []uint32 {
	out := make([]uint32, len(ms))
	for i, m := range ms {
		out[i] = m.UID
	}
	return out
}

// TestManyUIDRanges: every call takes more ranges than one query names,
// unsorted, overlapping, open-ended, and treats them in one transaction.
func TestManyUIDRanges(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		tcheck(t, s.EnsureFolders(ctx, john), "folders")
		const n = 260
		fill(t, s, john, n)
		inbox := mustFolder(t, s, john, "INBOX")
		archive := mustFolder(t, s, john, "Archive")

		// The odd UIDs to 2·MaxUIDRanges+1, one range each, last first;
		// a duplicate, one that names nothing, and 250:*.
		var ranges []store.UIDRange
		var want []uint32
		for i := store.MaxUIDRanges; i >= 0; i-- {
			u := uint32(2*i + 1)
			ranges = append(ranges, store.UIDRange{Start: u, Stop: u})
		}
		ranges = append(ranges, store.UIDRange{Start: 3, Stop: 3}, store.UIDRange{Start: 9, Stop: 2}, store.UIDRange{Start: 250})
		for u := uint32(1); u <= 2*store.MaxUIDRanges+1; u += 2 {
			want = append(want, u)
		}
		for u := uint32(250); u <= n; u++ {
			want = append(want, u)
		}

		ms, err := s.Messages(ctx, inbox.ID, ranges)
		tcheck(t, err, "messages")
		if got := uidsOf(ms); !slices.Equal(got, want) {
			t.Fatalf("messages: %v\nwant %v", got, want)
		}
		if ms, _ := s.Messages(ctx, inbox.ID, []store.UIDRange{}); len(ms) != 0 {
			t.Fatalf("no ranges named %d messages", len(ms))
		}

		// STORE: one modseq for all, the others untouched.
		st0, _ := s.FolderStatus(ctx, inbox)
		changed, err := s.StoreFlags(ctx, inbox.ID, ranges, store.FlagsAdd, store.Flags{store.FlagFlagged})
		tcheck(t, err, "store flags")
		if got := uidsOf(changed); !slices.Equal(got, want) {
			t.Fatalf("store changed %v", got)
		}
		for _, m := range changed {
			if m.ModSeq != st0.HighestModSeq+1 || !m.Flagged {
				t.Fatalf("changed %+v, modseq before %d", m, st0.HighestModSeq)
			}
		}
		all, _ := s.Messages(ctx, inbox.ID, nil)
		flagged := 0
		for _, m := range all {
			if m.Flagged {
				flagged++
			}
		}
		if flagged != len(want) {
			t.Fatalf("%d flagged, want %d", flagged, len(want))
		}
		if again, _ := s.StoreFlags(ctx, inbox.ID, ranges, store.FlagsAdd, store.Flags{store.FlagFlagged}); len(again) != 0 {
			t.Fatalf("no-op store changed %d", len(again))
		}

		// COPY over quota: nothing of it is stored.
		used, count, _ := s.Usage(ctx, john)
		_, err = s.Copy(ctx, inbox, archive, ranges, used+int64(len(want)/2)*all[0].Size)
		if !errors.Is(err, store.ErrOverQuota) {
			t.Fatalf("copy over quota: %v", err)
		}
		if st, _ := s.FolderStatus(ctx, archive); st.Messages != 0 {
			t.Fatalf("copy over quota stored %d messages", st.Messages)
		}
		if u, c, _ := s.Usage(ctx, john); u != used || c != count {
			t.Fatalf("usage after a refused copy %d %d, was %d %d", u, c, used, count)
		}

		// COPY: source and destination UIDs pair up in order.
		cr, err := s.Copy(ctx, inbox, archive, ranges, 0)
		tcheck(t, err, "copy")
		if !slices.Equal(cr.Src, want) || len(cr.Dst) != len(want) || cr.Dst[0] != 1 || cr.Dst[len(cr.Dst)-1] != uint32(len(want)) {
			t.Fatalf("copy %v -> %v", cr.Src, cr.Dst)
		}
		for i, dst := range []uint32{cr.Dst[0], cr.Dst[len(want)/2], cr.Dst[len(want)-1]} {
			src := []uint32{cr.Src[0], cr.Src[len(want)/2], cr.Src[len(want)-1]}[i]
			m, err := s.Message(ctx, john, archive.ID, dst)
			tcheck(t, err, "copied message")
			if seq := readPrefix(t, s, m); seq != fmt.Sprintf("X-Seq: %d\r\n", src) {
				t.Fatalf("archive UID %d holds %q, want the copy of UID %d", dst, seq, src)
			}
		}
		if u, c, _ := s.Usage(ctx, john); c != count+int64(len(want)) || u <= used {
			t.Fatalf("usage after copy %d %d", u, c)
		}

		// MOVE: exactly the messages named leave.
		trash := mustFolder(t, s, john, "Trash")
		before, _ := s.FolderStatus(ctx, inbox)
		mr, err := s.Move(ctx, inbox, trash, ranges)
		tcheck(t, err, "move")
		if !slices.Equal(mr.Src, want) {
			t.Fatalf("moved %v", mr.Src)
		}
		left, _ := s.Messages(ctx, inbox.ID, nil)
		if len(left) != n-len(want) {
			t.Fatalf("%d left in INBOX", len(left))
		}
		for _, m := range left {
			if _, ok := slices.BinarySearch(want, m.UID); ok {
				t.Fatalf("UID %d moved yet still in INBOX", m.UID)
			}
		}
		_, gone, _, err := s.Changes(ctx, inbox.ID, before.HighestModSeq)
		tcheck(t, err, "changes")
		if !slices.Equal(gone, want) {
			t.Fatalf("expunged %v", gone)
		}
	})
}

func readPrefix(t *testing.T, s *store.Store, m *store.Message) string {
	t.Helper()
	r, err := s.Open(context.Background(), m)
	tcheck(t, err, "open")
	defer r.Close()
	b := make([]byte, len(m.Prefix))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// TestReadChangesPages: the change feed comes in pages of at most the
// page size, changed messages then expunged UIDs, each in UID order,
// together what Changes returns; a small change is one page.
func TestReadChangesPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		const n, page = 23, 5
		fill(t, s, john, n)
		inbox := mustFolder(t, s, john, "INBOX")
		st0, _ := s.FolderStatus(ctx, inbox)

		read := func(since int64) (pages []store.ChangePage, changed, gone []uint32, highest int64) {
			t.Helper()
			highest, err := s.ReadChangesPaged(ctx, inbox.ID, since, page, func(p store.ChangePage) error {
				if len(p.Changed)+len(p.Gone) > page || (len(p.Changed) > 0) == (len(p.Gone) > 0) {
					t.Fatalf("page of %d changed and %d gone", len(p.Changed), len(p.Gone))
				}
				if len(p.Changed) > 0 && len(gone) > 0 {
					t.Fatal("changed messages after expunged UIDs")
				}
				pages = append(pages, p)
				changed = append(changed, uidsOf(p.Changed)...)
				gone = append(gone, p.Gone...)
				return nil
			})
			tcheck(t, err, "read changes")
			return pages, changed, gone, highest
		}
		seq := func(from, to uint32) []uint32 {
			var out []uint32
			for u := from; u <= to; u++ {
				out = append(out, u)
			}
			return out
		}

		// One STORE over the whole folder: one modseq, n rows.
		_, err := s.StoreFlags(ctx, inbox.ID, nil, store.FlagsAdd, store.Flags{store.FlagSeen})
		tcheck(t, err, "store")
		pages, changed, gone, highest := read(st0.HighestModSeq)
		if !slices.Equal(changed, seq(1, n)) || len(gone) != 0 || len(pages) != (n+page-1)/page {
			t.Fatalf("%d pages, changed %v, gone %v", len(pages), changed, gone)
		}
		for _, p := range pages {
			for _, m := range p.Changed {
				if !m.Seen || m.ModSeq != highest {
					t.Fatalf("changed %+v, highest %d", m, highest)
				}
			}
		}

		// A small change: one page.
		st1, _ := s.FolderStatus(ctx, inbox)
		_, err = s.StoreFlags(ctx, inbox.ID, []store.UIDRange{{Start: 17, Stop: 17}, {Start: 4, Stop: 4}}, store.FlagsAdd, store.Flags{"$Work"})
		tcheck(t, err, "store")
		pages, changed, _, _ = read(st1.HighestModSeq)
		if len(pages) != 1 || !slices.Equal(changed, []uint32{4, 17}) || pages[0].Changed[0].Keywords != "$Work" {
			t.Fatalf("small change: %d pages, %v", len(pages), changed)
		}
		if _, changed, _, h := read(highest + 1); len(changed) != 0 || h != highest+1 {
			t.Fatalf("nothing new, yet changed %v, highest %d", changed, h)
		}

		// Expunges, in a folder where the expunged outnumber a page.
		st2, _ := s.FolderStatus(ctx, inbox)
		_, err = s.StoreFlags(ctx, inbox.ID, []store.UIDRange{{Start: 3, Stop: 16}}, store.FlagsAdd, store.Flags{store.FlagDeleted})
		tcheck(t, err, "store")
		_, err = s.Expunge(ctx, inbox, nil)
		tcheck(t, err, "expunge")
		_, changed, gone, _ = read(st2.HighestModSeq)
		if !slices.Equal(gone, seq(3, 16)) || len(changed) != 0 {
			t.Fatalf("after expunge: changed %v, gone %v", changed, gone)
		}
		c, g, _, err := s.Changes(ctx, inbox.ID, st0.HighestModSeq)
		tcheck(t, err, "changes")
		if want := append(seq(1, 2), seq(17, n)...); !slices.Equal(uidsOf(c), want) || !slices.Equal(g, seq(3, 16)) {
			t.Fatalf("Changes: %v, gone %v", uidsOf(c), g)
		}
	})
}
