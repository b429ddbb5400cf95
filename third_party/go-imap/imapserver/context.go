package imapserver

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// postdesk: CONTEXT=SEARCH (RFC 5267 4). Upstream had none of it.

// SessionSearchContext is a Session that keeps the results of searches
// made with RETURN (UPDATE) up to date (RFC 5267 4.3): its Search
// remembers the criteria under SearchOptions.Tag, and as the selected
// mailbox changes it writes ADDTO and REMOVEFROM with
// UpdateWriter.WriteSearchUpdate, until CANCELUPDATE or the mailbox is
// closed. The server announces CONTEXT=SEARCH for such a Session.
type SessionSearchContext interface {
	Session
	// CancelSearchUpdate stops the updates of the searches with these
	// tags (CANCELUPDATE, RFC 5267 4.3.5).
	CancelSearchUpdate(tags []string) error
}

// handleCancelUpdate reads CANCELUPDATE: "CANCELUPDATE" 1*(SP quoted).
func (c *Conn) handleCancelUpdate(dec *imapwire.Decoder) error {
	session, ok := c.session.(SessionSearchContext)
	if !ok {
		return newClientBugError("Unknown command")
	}
	var tags []string
	if !dec.ExpectSP() {
		return dec.Err()
	}
	for {
		var tag string
		if !dec.ExpectString(&tag) {
			return dec.Err()
		}
		tags = append(tags, tag)
		if !dec.SP() {
			break
		}
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkState(imap.ConnStateSelected); err != nil {
		return err
	}
	return session.CancelSearchUpdate(tags)
}

// WriteSearchUpdate writes an update of the result of the search tagged
// tag (RFC 5267 4.3.3, 4.3.4): the messages of set (UIDs or sequence
// numbers, as the search gave) added to the result, or removed from it.
// The position is 0: a SEARCH's result has no order to place them in.
func (w *UpdateWriter) WriteSearchUpdate(tag string, addTo bool, set imap.NumSet) error {
	enc := newResponseEncoder(w.conn)
	defer enc.end()
	enc.Atom("*").SP().Atom("ESEARCH").SP().Special('(').Atom("TAG").SP().String(tag).Special(')')
	if _, ok := set.(imap.UIDSet); ok {
		enc.SP().Atom("UID")
	}
	name := "REMOVEFROM"
	if addTo {
		name = "ADDTO"
	}
	enc.SP().Atom(name).SP().Special('(').Number(0).SP().NumSet(set).Special(')')
	return enc.CRLF()
}

// partialOf is the part of a result that a PARTIAL return option names
// (RFC 5267 4.4): its p.First-th to p.Last-th numbers, or nil when the
// result has fewer than p.First.
func partialOf(all imap.NumSet, p *imap.SearchPartial) imap.NumSet {
	var nums []uint32
	switch set := all.(type) {
	case imap.SeqSet:
		nums, _ = set.Nums()
	case imap.UIDSet:
		uids, _ := set.Nums()
		for _, u := range uids {
			nums = append(nums, uint32(u))
		}
	}
	if uint64(p.First) > uint64(len(nums)) {
		return nil
	}
	last := len(nums)
	if uint64(p.Last) < uint64(last) {
		last = int(p.Last)
	}
	nums = nums[p.First-1 : last]
	if _, ok := all.(imap.UIDSet); ok {
		var out imap.UIDSet
		for _, n := range nums {
			out.AddNum(imap.UID(n))
		}
		return out
	}
	var out imap.SeqSet
	out.AddNum(nums...)
	return out
}
