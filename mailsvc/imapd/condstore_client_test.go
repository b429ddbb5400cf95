package imapd_test

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestCondstoreClient syncs the way a CONDSTORE client does, with
// go-imap's imapclient: HIGHESTMODSEQ from SELECT (CONDSTORE), then only
// what changed since from FETCH CHANGEDSINCE and SEARCH MODSEQ, then a
// STORE conditional on the modseq it knows (RFC 7162 3.1).
func TestCondstoreClient(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.deliver(e.john, "", msgPlain)
		e.deliver(e.john, "", msgMultipart)
		e.deliver(e.john, "", msgPlain)
		c := e.client("john@example.test", nil)
		other := e.client("john@example.test", nil)

		sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
		tcheck(t, err, "select")
		if sel.HighestModSeq == 0 {
			t.Fatal("SELECT (CONDSTORE): no HIGHESTMODSEQ")
		}
		_, err = other.Select("INBOX", nil).Wait()
		tcheck(t, err, "select other")
		tcheck(t, other.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close(), "store other")

		msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{UID: true, Flags: true, ChangedSince: sel.HighestModSeq}).Collect()
		tcheck(t, err, "fetch changedsince")
		if len(msgs) != 1 || msgs[0].SeqNum != 2 || msgs[0].ModSeq <= sel.HighestModSeq {
			t.Fatalf("FETCH CHANGEDSINCE %d: %+v", sel.HighestModSeq, msgs)
		}
		changed := msgs[0].ModSeq
		res, err := c.Search(&imap.SearchCriteria{ModSeq: &imap.SearchCriteriaModSeq{ModSeq: sel.HighestModSeq + 1}}, nil).Wait()
		tcheck(t, err, "search modseq")
		if nums := res.AllSeqNums(); len(nums) != 1 || nums[0] != 2 || res.ModSeq != changed {
			t.Fatalf("SEARCH MODSEQ: %v (MODSEQ %d), want [2] (MODSEQ %d)", nums, res.ModSeq, changed)
		}

		// Conditional on the old modseq: message 2 changed meanwhile and
		// is left alone; the others get \Seen.
		err = c.Store(imap.SeqSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true},
			&imap.StoreOptions{UnchangedSince: sel.HighestModSeq}).Close()
		tcheck(t, err, "store unchangedsince")
		msgs, err = c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{Flags: true, ModSeq: true}).Collect()
		tcheck(t, err, "fetch flags")
		for _, m := range msgs {
			seen := false
			for _, f := range m.Flags {
				seen = seen || f == imap.FlagSeen
			}
			if seen != (m.SeqNum != 2) || m.ModSeq == 0 {
				t.Errorf("message %d after STORE (UNCHANGEDSINCE): flags %v, modseq %d", m.SeqNum, m.Flags, m.ModSeq)
			}
		}
		st, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
		tcheck(t, err, "status")
		if st.HighestModSeq <= changed {
			t.Errorf("STATUS HIGHESTMODSEQ %d, want past %d", st.HighestModSeq, changed)
		}
	})
}
