package imapd

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// CONDSTORE and QRESYNC (RFC 7162) over the store's modseqs: every message
// row has the modseq of its last change, every folder its highest, and
// every expunge is kept with its modseq (mail_expunged), so a client that
// last saw a folder at some modseq can be told exactly what changed since.
// go-imap parses and writes the protocol (third_party/go-imap PATCHES.md
// 20); the Session answers here and in Select, Status, Fetch, Store and
// Search.

var (
	_ imapserver.SessionCondStore = (*Session)(nil)
	_ imapserver.SessionQResync   = (*Session)(nil)
)

// enabled reports whether the client enabled an extension.
func (s *Session) enabled(c imap.Cap) bool {
	return s.cs.imap != nil && s.cs.imap.EnabledCaps().Has(c)
}

// HighestModSeq is the modseq up to which the client has been told of
// every change of the selected folder: what a CONDSTORE enabling command
// in the selected state reports (RFC 7162 3.1). Never more: a client that
// later asks for CHANGEDSINCE it would miss what it has not been told.
func (s *Session) HighestModSeq() (uint64, error) {
	sel := s.sel
	if sel == nil {
		return 0, nil
	}
	sel.hub.mu.Lock()
	defer sel.hub.mu.Unlock()
	return uint64(sel.q.synced), nil
}

// ResyncSelected answers SELECT's QRESYNC parameter (RFC 7162 3.2.5.1):
// FETCH (UID FLAGS MODSEQ) for each message of the view changed after the
// client's modseq, then VANISHED (EARLIER) for the known UIDs expunged
// since. Both are read from the change feed a page at a time. Expunged
// messages still in the view are left out: the session has not told of
// them yet, and will, with VANISHED, after the command.
func (s *Session) ResyncSelected(w *imapserver.FetchWriter, params *imap.SelectQResync) error {
	sel := s.sel
	since := int64(min(params.ModSeq, 1<<63-1))
	var vanished imap.UIDSet
	_, err := s.st.ReadChanges(s.ctx, sel.folder.ID, since, func(p store.ChangePage) error {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		for i := range p.Changed {
			m := &p.Changed[i]
			seq := viewIndex(sel.view, m.UID)
			if seq < 0 {
				continue // arrived after the view was taken: EXISTS tells
			}
			flags := m.Flags()
			if err := sel.announceDirect(w, keywordsOf(flags)); err != nil {
				return err
			}
			resp := w.CreateMessage(uint32(seq + 1))
			resp.WriteUID(imap.UID(m.UID))
			resp.WriteFlags(sel.imapFlags(m.UID, flags))
			resp.WriteModSeq(uint64(m.ModSeq))
			if err := resp.Close(); err != nil {
				return err
			}
		}
		for _, u := range p.Gone {
			if viewIndex(sel.view, u) >= 0 || params.KnownUIDs != nil && !params.KnownUIDs.Contains(imap.UID(u)) {
				continue
			}
			vanished.AddNum(imap.UID(u))
		}
		return nil
	})
	if err != nil {
		return s.fail(err, "resync")
	}
	return w.WriteVanishedEarlier(vanished)
}

// viewIndex is the position of uid in a view, -1 if it is not there.
func viewIndex(view []uint32, uid uint32) int {
	if !contains(view, uid) {
		return -1
	}
	lo, hi := 0, len(view)
	for lo < hi {
		m := (lo + hi) / 2
		if view[m] < uid {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// writeVanishedEarlier answers UID FETCH's VANISHED modifier (RFC 7162
// 3.2.6): the UIDs of the set expunged after modseq since that the view
// no longer holds.
func (s *Session) writeVanishedEarlier(w *imapserver.FetchWriter, numSet imap.NumSet, since uint64) error {
	sel := s.sel
	set, ok := numSet.(imap.UIDSet)
	if !ok {
		return nil
	}
	last := imap.UID(lastUID(sel.view))
	var vanished imap.UIDSet
	err := s.st.ReadExpunged(s.ctx, sel.folder.ID, int64(min(since, 1<<63-1)), func(uids []uint32) error {
		for _, u := range uids {
			if viewIndex(sel.view, u) >= 0 || !uidSetContains(set, imap.UID(u), last) {
				continue
			}
			vanished.AddNum(imap.UID(u))
		}
		return nil
	})
	if err != nil {
		return s.fail(err, "fetch")
	}
	return w.WriteVanishedEarlier(vanished)
}

// uidSetContains reports whether a UID set names uid, "*" being last, the
// highest UID of the view (RFC 9051 6.4.8), or any UID past it if the
// view is empty.
func uidSetContains(set imap.UIDSet, uid, last imap.UID) bool {
	for _, r := range set {
		start, stop := r.Start, r.Stop
		if start == 0 {
			start = last
		}
		if stop == 0 {
			if last == 0 || uid > last {
				stop = ^imap.UID(0)
			} else {
				stop = last
			}
		}
		if start > stop {
			start, stop = stop, start
		}
		if uid >= start && uid <= stop {
			return true
		}
	}
	return false
}

// searchUsesModSeq reports whether criteria has the MODSEQ key anywhere;
// the result then carries the highest modseq (RFC 7162 3.1.5).
func searchUsesModSeq(c *imap.SearchCriteria) bool {
	if c.ModSeq != nil {
		return true
	}
	for i := range c.Not {
		if searchUsesModSeq(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if searchUsesModSeq(&c.Or[i][0]) || searchUsesModSeq(&c.Or[i][1]) {
			return true
		}
	}
	return false
}
