package imapd

import (
	"slices"
	"sort"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// maxSearchContexts bounds the searches a session keeps up to date
// (CONTEXT=SEARCH, RFC 5267 4.3): each runs again after every change to
// the folder, so a client must not make a change cost it a thousand
// searches.
const maxSearchContexts = 4

// searchContext is a SEARCH RETURN (UPDATE) whose result the session
// keeps up to date with ADDTO and REMOVEFROM (RFC 5267 4.3).
type searchContext struct {
	tag      string
	kind     imapserver.NumKind
	criteria *imap.SearchCriteria
	uids     []uint32 // the result as the client has it, ascending
}

// addContext keeps a search's result up to date from now on; a search
// with the tag of one kept already replaces it.
func (sel *selected) addContext(tag string, kind imapserver.NumKind, criteria *imap.SearchCriteria, uids []uint32) error {
	sel.contexts = slices.DeleteFunc(sel.contexts, func(c *searchContext) bool { return c.tag == tag })
	if len(sel.contexts) >= maxSearchContexts {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit,
			Text: "Too many searches kept up to date; CANCELUPDATE one first"}
	}
	sel.contexts = append(sel.contexts, &searchContext{tag: tag, kind: kind, criteria: criteria, uids: slices.Clone(uids)})
	return nil
}

// CancelSearchUpdate ends the updates of the searches tagged tags
// (CANCELUPDATE, RFC 5267 4.3.5); a tag of none is a BAD.
func (s *Session) CancelSearchUpdate(tags []string) error {
	if s.sel == nil {
		return nil
	}
	for _, tag := range tags {
		if !slices.ContainsFunc(s.sel.contexts, func(c *searchContext) bool { return c.tag == tag }) {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "No search is kept up to date under tag " + tag}
		}
	}
	s.sel.contexts = slices.DeleteFunc(s.sel.contexts, func(c *searchContext) bool { return slices.Contains(tags, c.tag) })
	return nil
}

// expungeFromContexts takes an expunged message out of the kept results
// and tells the client, just before the message's EXPUNGE, while seq is
// still its number (RFC 5267 4.3.4).
func (sel *selected) expungeFromContexts(w *imapserver.UpdateWriter, uid, seq uint32) error {
	for _, c := range sel.contexts {
		i, ok := slices.BinarySearch(c.uids, uid)
		if !ok {
			continue
		}
		c.uids = slices.Delete(c.uids, i, i+1)
		var set imap.NumSet = imap.UIDSetNum(imap.UID(uid))
		if c.kind == imapserver.NumKindSeq {
			set = imap.SeqSetNum(seq)
		}
		if err := w.WriteSearchUpdate(c.tag, false, set); err != nil {
			return err
		}
	}
	return nil
}

// updateContexts runs the kept searches again and writes what changed in
// their results: REMOVEFROM, then ADDTO (RFC 5267 4.3). Flush calls it
// when the folder changed since the last time.
func (sel *selected) updateContexts(w *imapserver.UpdateWriter) error {
	for _, c := range sel.contexts {
		data, err := sel.sess.search(imapserver.NumKindUID, c.criteria, &imap.SearchOptions{ReturnAll: true}, searchChunk)
		if err != nil {
			return err
		}
		all, _ := data.All.(imap.UIDSet).Nums()
		now := make([]uint32, len(all))
		for i, u := range all {
			now[i] = uint32(u)
		}
		var removed, added []uint32
		for i, j := 0, 0; i < len(c.uids) || j < len(now); {
			switch {
			case j == len(now) || i < len(c.uids) && c.uids[i] < now[j]:
				removed = append(removed, c.uids[i])
				i++
			case i == len(c.uids) || now[j] < c.uids[i]:
				added = append(added, now[j])
				j++
			default:
				i++
				j++
			}
		}
		c.uids = now
		for k, uids := range [][]uint32{removed, added} {
			if set := sel.numSet(c.kind, uids); set != nil {
				if err := w.WriteSearchUpdate(c.tag, k == 1, set); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// numSet names messages of the view by UID or by sequence number; nil
// for none (or, by number, none still in the view).
func (sel *selected) numSet(kind imapserver.NumKind, uids []uint32) imap.NumSet {
	if kind == imapserver.NumKindUID {
		if len(uids) == 0 {
			return nil
		}
		var set imap.UIDSet
		for _, u := range uids {
			set.AddNum(imap.UID(u))
		}
		return set
	}
	var set imap.SeqSet
	for _, u := range uids {
		i := sort.Search(len(sel.view), func(i int) bool { return sel.view[i] >= u })
		if i < len(sel.view) && sel.view[i] == u {
			set.AddNum(uint32(i + 1))
		}
	}
	if len(set) == 0 {
		return nil
	}
	return set
}
