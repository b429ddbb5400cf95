package imapd

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// selected is a session's view of its selected folder: the UIDs its
// client knows, in sequence-number order, and the updates queued for it
// (guarded by the hub's mutex, hub.go). Only the session's goroutine (or
// its IDLE goroutine, while the other waits) touches the rest.
type selected struct {
	sess     *Session
	hub      *hub
	folder   store.Folder
	readOnly bool

	view      []uint32 // never changed in place: it may be the hub's
	recent    map[uint32]bool
	announced map[string]bool // keywords the client was told of in FLAGS
	searchRes []uint32        // SEARCHRES's $ (RFC 5182), UIDs
	// contexts: searches kept up to date (RFC 5267 4.3, context.go),
	// last run when the hub's modseq was contextsAt.
	contexts   []*searchContext
	contextsAt int64
	// condStore and qresync: the client enabled them (RFC 7162), as of
	// the last flush.
	condStore, qresync bool
	q                  updateQueue // hub.mu
	wake               chan struct{}
}

func (sel *selected) signal() {
	select {
	case sel.wake <- struct{}{}:
	default:
	}
}

func (sel *selected) close() { sel.hub.leave(sel) }

var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft}

func mailboxFlags(keywords []string) []imap.Flag {
	out := append([]imap.Flag(nil), systemFlags...)
	for _, k := range keywords {
		out = append(out, imap.Flag(k))
	}
	return out
}

// Select opens a folder (RFC 9051 6.3.2, 6.3.3).
func (s *Session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if s.sel != nil {
		s.sel.close()
		s.sel = nil
	}
	f, err := s.st.Folder(s.ctx, s.mailboxID, folderName(name))
	if err != nil {
		return nil, s.fail(err, "select")
	}
	// UIDNEXT is read before the view is taken: a message arriving in
	// between is then in the view and raises it (below), where read after
	// it would count in UIDNEXT without being in EXISTS, and a client
	// fetching "UIDNEXT:*" next time would never see it (RFC 9051 2.3.1.1).
	st, err := s.st.FolderStatus(s.ctx, f)
	if err != nil {
		return nil, s.fail(err, "select")
	}
	h, err := s.srv.acquireHub(s.ctx, f)
	if err != nil {
		return nil, s.fail(err, "select")
	}
	if err := h.sync(s.ctx, nil, nil); err != nil {
		s.srv.releaseHub(h)
		return nil, s.fail(err, "select")
	}
	sel := &selected{sess: s, hub: h, folder: *f, readOnly: options.ReadOnly, recent: map[uint32]bool{}, wake: make(chan struct{}, 1)}
	err = h.join(sel, func(view []uint32) error {
		var from uint32
		var err error
		if sel.readOnly {
			from, err = s.peekRecent(f.ID)
		} else if len(view) > 0 {
			from, err = s.claimRecent(f.ID, view[len(view)-1]+1)
		}
		if err != nil || len(view) == 0 {
			return err
		}
		for _, u := range view[sort.Search(len(view), func(i int) bool { return view[i] >= from }):] {
			sel.recent[u] = true
		}
		return nil
	})
	if err != nil {
		s.srv.releaseHub(h)
		return nil, s.fail(err, "select")
	}
	firstUnseen, err := s.st.FirstUnseenUID(s.ctx, f.ID)
	if err != nil {
		sel.close()
		return nil, s.fail(err, "select")
	}
	s.sel = sel
	uidNext := st.UIDNext
	if n := len(sel.view); n > 0 && sel.view[n-1] >= uidNext {
		uidNext = sel.view[n-1] + 1
	}
	flags := mailboxFlags(sortedKeys(sel.announced))
	perm := []imap.Flag{}
	if !sel.readOnly {
		perm = append(append(perm, flags...), imap.FlagWildcard)
	}
	// HIGHESTMODSEQ (RFC 7162 3.1.2.1) is that of the view: the modseq
	// the hub had read the folder up to when the session joined.
	sel.hub.mu.Lock()
	highest := sel.q.synced
	sel.hub.mu.Unlock()
	data := &imap.SelectData{
		Flags: flags, PermanentFlags: perm, NumMessages: uint32(len(sel.view)), NumRecent: uint32(len(sel.recent)),
		UIDNext: imap.UID(uidNext), UIDValidity: f.UIDValidity, HighestModSeq: uint64(highest),
		MailboxID: mailboxObjectID(f),
	}
	if firstUnseen != 0 {
		if i := sort.Search(len(sel.view), func(i int) bool { return sel.view[i] >= firstUnseen }); i < len(sel.view) {
			data.FirstUnseenSeqNum = uint32(i + 1)
		}
	}
	s.log.Debug("selected", "folder", f.Name, "messages", len(sel.view), "read_only", sel.readOnly)
	return data, nil
}

// Unselect leaves the selected state (UNSELECT, CLOSE).
func (s *Session) Unselect() error {
	if s.sel != nil {
		s.sel.close()
		s.sel = nil
	}
	return nil
}

// Poll writes the updates queued for the session, after a command.
func (s *Session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.sel == nil {
		return nil
	}
	if err := s.sel.hub.sync(s.ctx, nil, nil); err != nil {
		s.log.Warn("sync folder", "err", err)
	}
	return s.sel.flush(w, allowExpunge)
}

// Idle writes updates as they come until the client says DONE.
func (s *Session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if s.sel == nil {
		<-stop
		return nil
	}
	for {
		if err := s.sel.flush(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-s.sel.wake:
		case <-s.ctx.Done():
			return nil
		}
	}
}

// flush writes queued updates; without allowExpunge (during FETCH,
// STORE, SEARCH) it stops before the first EXPUNGE, which would shift
// sequence numbers under the client (RFC 9051 7.5.1). A session whose
// queue overflowed resyncs instead, at the first flush that may expunge.
func (sel *selected) flush(w *imapserver.UpdateWriter, allowExpunge bool) error {
	h := sel.hub
	h.mu.Lock()
	take := sel.q.take(allowExpunge)
	resync := sel.q.resync && allowExpunge
	if len(sel.q.items) == 0 && !sel.q.resync {
		sel.q.synced = h.modseq
	}
	hubModSeq := h.modseq
	h.mu.Unlock()
	sel.condStore, sel.qresync = sel.sess.enabled(imap.CapCondStore), sel.sess.enabled(imap.CapQResync)
	if err := sel.flushQueue(w, take, resync); err != nil {
		return err
	}
	// The folder changed (this session's own changes included, which
	// are not queued to it): the kept searches may have other results.
	if len(sel.contexts) > 0 && hubModSeq != sel.contextsAt {
		sel.contextsAt = hubModSeq
		return sel.updateContexts(w)
	}
	return nil
}

// flushQueue writes the updates flush took from the queue, or resyncs.
func (sel *selected) flushQueue(w *imapserver.UpdateWriter, take []update, resync bool) error {
	if resync {
		return sel.resync(w)
	}
	for i := 0; i < len(take); i++ {
		u := take[i]
		switch u.kind {
		case updExpunge:
			j := i + 1
			for j < len(take) && take[j].kind == updExpunge {
				j++
			}
			if err := sel.expunge(w, take[i:j]); err != nil {
				return err
			}
			i = j - 1
		case updExists:
			sel.view = append(sel.view[:len(sel.view):len(sel.view)], u.uids...)
			for _, r := range u.recent {
				sel.recent[r] = true
			}
			if err := w.WriteNumMessages(uint32(len(sel.view))); err != nil {
				return err
			}
			if err := w.WriteNumRecent(uint32(len(sel.recent))); err != nil {
				return err
			}
		case updMailboxFlags:
			if err := sel.announce(w, u.keywords); err != nil {
				return err
			}
		case updFlags:
			i := sort.Search(len(sel.view), func(i int) bool { return sel.view[i] >= u.uid })
			if i == len(sel.view) || sel.view[i] != u.uid {
				continue
			}
			if err := sel.announce(w, keywordsOf(u.flags)); err != nil {
				return err
			}
			if err := sel.writeFlags(w, uint32(i+1), u.uid, u.flags, u.modseq); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFlags writes an unsolicited FETCH FLAGS, with MODSEQ once CONDSTORE
// is enabled (RFC 7162 3.1.4).
func (sel *selected) writeFlags(w *imapserver.UpdateWriter, seq, uid uint32, flags []string, modseq int64) error {
	if sel.condStore {
		return w.WriteMessageFlagsModSeq(seq, imap.UID(uid), sel.imapFlags(uid, flags), uint64(modseq))
	}
	return w.WriteMessageFlags(seq, imap.UID(uid), sel.imapFlags(uid, flags))
}

// expunge writes a run of EXPUNGE updates and takes the messages out of
// the view once, not once per message, which would copy the view as many
// times. Each EXPUNGE's number counts the ones written before it.
func (sel *selected) expunge(w *imapserver.UpdateWriter, run []update) error {
	view := sel.view
	pos := make([]int, 0, len(run))
	for _, u := range run {
		i := sort.Search(len(view), func(i int) bool { return view[i] >= u.uid })
		if i < len(view) && view[i] == u.uid {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return nil
	}
	slices.Sort(pos)
	pos = slices.Compact(pos)
	if sel.qresync {
		// VANISHED instead of EXPUNGE (RFC 7162 3.2.10).
		var gone imap.UIDSet
		for k, i := range pos {
			gone.AddNum(imap.UID(view[i]))
			if err := sel.expungeFromContexts(w, view[i], uint32(i+1-k)); err != nil {
				return err
			}
		}
		if err := w.WriteVanished(gone); err != nil {
			return err
		}
	}
	next := make([]uint32, 0, len(view)-len(pos))
	prev := 0
	for k, i := range pos {
		if !sel.qresync {
			if err := sel.expungeFromContexts(w, view[i], uint32(i+1-k)); err != nil {
				return err
			}
			if err := w.WriteExpunge(uint32(i + 1 - k)); err != nil {
				return err
			}
		}
		next = append(next, view[prev:i]...)
		prev = i + 1
		delete(sel.recent, view[i])
	}
	sel.view = append(next, view[prev:]...)
	return nil
}

// resync brings a session whose queue overflowed up to date with the
// folder as the hub has it now, in what IMAP allows after any command
// but FETCH, STORE and SEARCH: an EXPUNGE for each message of the view
// that is gone, from the highest sequence number down, so that none
// shifts before it is reported; EXISTS if messages arrived; FLAGS if the
// folder has new keywords; and FETCH FLAGS for each remaining message
// changed since the client was last up to date, read from the store
// searchChunk rows at a time.
func (sel *selected) resync(w *imapserver.UpdateWriter) error {
	h, s := sel.hub, sel.sess
	h.mu.Lock()
	cur, from, gone, recent := h.uids, sel.q.synced, h.gone, sel.q.recent
	// From here on, the hub queues changes after cur to the session.
	sel.q.resync, sel.q.synced, sel.q.recent = false, h.modseq, nil
	kws := sortedKeys(h.keywords)
	h.mu.Unlock()

	old := sel.view
	kept := 0
	var top uint32 // highest UID kept
	var vanished imap.UIDSet
	for i := len(old) - 1; i >= 0; i-- {
		u := old[i]
		if contains(cur, u) {
			if kept == 0 {
				top = u
			}
			kept++
			continue
		}
		if err := sel.expungeFromContexts(w, u, uint32(i+1)); err != nil {
			return err
		}
		if sel.qresync {
			vanished.AddNum(imap.UID(u))
		} else if err := w.WriteExpunge(uint32(i + 1)); err != nil {
			return err
		}
		delete(sel.recent, u)
	}
	if err := w.WriteVanished(vanished); err != nil {
		return err
	}
	// A view holds the folder as it was at some point, less the arrivals
	// it has not been told of, and arrivals have higher UIDs than any
	// message before them: what is left of the view is the start of cur,
	// and the rest of cur is new. Were it not, no sequence numbers the
	// session could give would be right.
	if kept > 0 && cur[kept-1] != top {
		s.log.Error("resync: view is not a prefix of the folder", "folder", sel.folder.ID, "kept", kept, "top", top)
		return sel.bye("Mailbox state lost; please reconnect")
	}
	sel.view = cur[:len(cur):len(cur)]
	for _, u := range cur[kept:] {
		if spansContain(recent, u) {
			sel.recent[u] = true
		}
	}
	if len(cur) > kept {
		if err := w.WriteNumMessages(uint32(len(cur))); err != nil {
			return err
		}
		if err := w.WriteNumRecent(uint32(len(sel.recent))); err != nil {
			return err
		}
	}
	if err := sel.announce(w, kws); err != nil {
		return err
	}
	if gone {
		return nil
	}
	for start := 0; start < kept; start += searchChunk {
		chunk := cur[start:min(kept, start+searchChunk)]
		rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, chunk, store.MetaColumns{})
		if err != nil {
			// What was written stands (the view is cur); the flags are
			// owed still, from the same point.
			s.log.Warn("resync: read flags", "folder", sel.folder.ID, "err", fmt.Errorf("read messages from UID %d: %w", chunk[0], err))
			h.mu.Lock()
			sel.q.overflow()
			sel.q.synced = from
			h.mu.Unlock()
			return nil
		}
		j := start
		for r := range rows {
			m := &rows[r]
			for j < kept && cur[j] < m.UID {
				j++
			}
			if j == kept || cur[j] != m.UID || m.ModSeq <= from {
				continue
			}
			flags := m.Flags()
			if err := sel.announce(w, keywordsOf(flags)); err != nil {
				return err
			}
			if err := sel.writeFlags(w, uint32(j+1), m.UID, flags, m.ModSeq); err != nil {
				return err
			}
		}
	}
	return nil
}

// bye ends the connection with an untagged BYE: for when the session can
// no longer give correct sequence numbers.
func (sel *selected) bye(text string) error {
	sel.sess.cs.imap.Bye(text)
	return errors.New("connection closed: " + text)
}

// announce writes FLAGS if a keyword is new to the client.
func (sel *selected) announce(w *imapserver.UpdateWriter, keywords []string) error {
	if !sel.unannounced(keywords) {
		return nil
	}
	all := sel.allKeywords(keywords)
	for _, k := range all {
		sel.announced[k] = true
	}
	return w.WriteMailboxFlags(mailboxFlags(all))
}

func (sel *selected) unannounced(keywords []string) bool {
	for _, k := range keywords {
		if !sel.announced[k] {
			return true
		}
	}
	return false
}

func (sel *selected) allKeywords(extra []string) []string {
	set := map[string]bool{}
	for _, k := range sel.hub.keywordList() {
		set[k] = true
	}
	for k := range sel.announced {
		set[k] = true
	}
	for _, k := range extra {
		set[k] = true
	}
	return sortedKeys(set)
}

// announceDirect tells the client of new keywords before a response of a
// command that shows them (FETCH, STORE), between two messages' responses
// (third_party/go-imap PATCHES.md 16).
func (sel *selected) announceDirect(w *imapserver.FetchWriter, keywords []string) error {
	if !sel.unannounced(keywords) {
		return nil
	}
	all := sel.allKeywords(keywords)
	for _, k := range all {
		sel.announced[k] = true
	}
	flags := mailboxFlags(all)
	if err := w.WriteMailboxFlags(flags); err != nil {
		return err
	}
	if sel.readOnly {
		return nil
	}
	return w.WritePermanentFlags(append(flags, imap.FlagWildcard))
}

func keywordsOf(flags []string) []string {
	var out []string
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) {
			out = append(out, f)
		}
	}
	return out
}

// imapFlags adds \Recent, which is the session's, to a message's flags.
func (sel *selected) imapFlags(uid uint32, flags []string) []imap.Flag {
	out := make([]imap.Flag, 0, len(flags)+1)
	for _, f := range flags {
		out = append(out, imap.Flag(f))
	}
	if sel.recent[uid] {
		out = append(out, `\Recent`)
	}
	return out
}

// item is a message a command names: its sequence number and UID.
type item struct {
	seq uint32
	uid uint32
}

// resolve turns a sequence or UID set into the messages of the view it
// names, in order (ranges.go). Numbers past the end name nothing; "*" is
// the last message (its UID for UID sets).
func (sel *selected) resolve(numSet imap.NumSet) []item {
	view := sel.view
	if imap.IsSearchRes(numSet) {
		return uidListItems(view, sel.searchRes)
	}
	switch set := numSet.(type) {
	case imap.SeqSet:
		return seqItems(view, normSeqSet(set, uint32(len(view))))
	case imap.UIDSet:
		return uidItems(view, normUIDSet(set, lastUID(view)))
	}
	return nil
}

// lastUID is the highest UID of a view, 0 if it is empty.
func lastUID(view []uint32) uint32 {
	if len(view) == 0 {
		return 0
	}
	return view[len(view)-1]
}

func itemUIDs(items []item) []uint32 {
	out := make([]uint32, len(items))
	for i, it := range items {
		out[i] = it.uid
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func uidSet(uids []uint32) imap.UIDSet {
	var s imap.UIDSet
	for _, u := range uids {
		s.AddNum(imap.UID(u))
	}
	return s
}

var errReadOnly = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "The mailbox is read-only (EXAMINE)"}

// Store changes flags (RFC 9051 6.4.6).
func (s *Session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	sel := s.sel
	if sel.readOnly {
		return errReadOnly
	}
	items := sel.resolve(numSet)
	if len(items) == 0 {
		return nil
	}
	op := store.FlagsSet
	switch flags.Op {
	case imap.StoreFlagsAdd:
		op = store.FlagsAdd
	case imap.StoreFlagsDel:
		op = store.FlagsDel
	}
	uids := itemUIDs(items)
	// UNCHANGEDSINCE (RFC 7162 3.1.3): tested against each message's
	// modseq in the transaction that changes the flags.
	unchangedSince := int64(-1)
	if options.HasUnchangedSince {
		unchangedSince = int64(min(options.UnchangedSince, 1<<63-1))
	}
	changed, modified, err := s.st.StoreFlagsUnchangedSince(s.ctx, sel.folder.ID, store.RangesOf(uids), op, storeFlags(flags.Flags), unchangedSince)
	if err != nil {
		return s.fail(err, "store flags")
	}
	withUID := strings.HasPrefix(s.cs.imap.Command(), "UID ")
	failed := make(map[uint32]bool, len(modified))
	if len(modified) > 0 {
		var set imap.NumSet
		if withUID {
			set = uidSet(modified)
		} else {
			var seqs imap.SeqSet
			for _, it := range items {
				if contains(modified, it.uid) {
					seqs.AddNum(it.seq)
				}
			}
			set = seqs
		}
		for _, u := range modified {
			failed[u] = true
		}
		w.WriteModified(set)
	}
	own := make(map[uint32]int64, len(changed))
	for _, m := range changed {
		own[m.UID] = m.ModSeq
	}
	if err := sel.hub.sync(s.ctx, sel, own); err != nil {
		s.log.Warn("sync folder", "err", err)
	}
	condStore := s.enabled(imap.CapCondStore)
	if flags.Silent {
		if !condStore {
			return nil
		}
		// Even .SILENT reports the new modseqs once CONDSTORE is on
		// (RFC 7162 3.1.3), of the messages changed.
		for _, m := range changed {
			seq := viewIndex(sel.view, m.UID)
			if seq < 0 {
				continue
			}
			resp := w.CreateMessage(uint32(seq + 1))
			if withUID {
				resp.WriteUID(imap.UID(m.UID))
			}
			resp.WriteModSeq(uint64(m.ModSeq))
			if err := resp.Close(); err != nil {
				return err
			}
		}
		return nil
	}
	// The new flags are read back 500 messages at a time, as FETCH does,
	// so STORE 1:* on a large folder holds one chunk of rows.
	for start := 0; start < len(items); start += searchChunk {
		chunk := items[start:min(start+searchChunk, len(items))]
		rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, itemUIDs(chunk), store.MetaColumns{FlagsOnly: true})
		if err != nil {
			return s.fail(err, "store flags")
		}
		byUID := make(map[uint32]*store.MessageMeta, len(rows))
		var kws []string
		for i := range rows {
			byUID[rows[i].UID] = &rows[i]
			kws = append(kws, strings.Fields(rows[i].Keywords)...)
		}
		// New keywords are announced before the first response showing
		// them; the previous chunk's responses are complete by now.
		if err := sel.announceDirect(w, kws); err != nil {
			return err
		}
		for _, it := range chunk {
			m := byUID[it.uid]
			if m == nil || failed[it.uid] {
				continue
			}
			resp := w.CreateMessage(it.seq)
			if withUID {
				resp.WriteUID(imap.UID(it.uid))
			}
			resp.WriteFlags(sel.imapFlags(it.uid, m.Flags()))
			if condStore {
				resp.WriteModSeq(uint64(m.ModSeq))
			}
			if err := resp.Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Expunge removes \Deleted messages, all or those in uids (UID EXPUNGE,
// RFC 4315). The EXPUNGE responses reach this session like any other's,
// through its queue, written before the command's OK.
func (s *Session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	sel := s.sel
	if sel.readOnly {
		if s.cs.imap.Command() == "CLOSE" {
			return nil // CLOSE after EXAMINE expunges nothing
		}
		return errReadOnly
	}
	var list []uint32
	if uids != nil {
		list = []uint32{}
		for _, it := range sel.resolve(*uids) {
			list = append(list, it.uid)
		}
	}
	if _, err := s.st.Expunge(s.ctx, &sel.folder, list); err != nil {
		return s.fail(err, "expunge")
	}
	if err := sel.hub.sync(s.ctx, nil, nil); err != nil {
		s.log.Warn("sync folder", "err", err)
	}
	return nil
}

// destination looks up the folder of COPY and MOVE; a missing one gets
// TRYCREATE (RFC 9051 6.4.7).
func (s *Session) destination(name string) (*store.Folder, error) {
	f, err := s.st.Folder(s.ctx, s.mailboxID, folderName(name))
	if errors.Is(err, store.ErrNoFolder) {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	}
	if err != nil {
		return nil, s.fail(err, "look up folder")
	}
	return f, nil
}

// Copy copies messages, within the quota (RFC 9051 6.4.7, COPYUID RFC
// 4315).
func (s *Session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	sel := s.sel
	dst, err := s.destination(dest)
	if err != nil {
		return nil, err
	}
	items := sel.resolve(numSet)
	if len(items) == 0 {
		return nil, nil
	}
	quota, err := s.quotaLimit()
	if err != nil {
		return nil, err
	}
	res, err := s.copyUIDs(&sel.folder, dst, itemUIDs(items), quota)
	if err != nil {
		return nil, s.fail(err, "copy")
	}
	s.srv.syncFolder(s.ctx, dst.ID)
	if len(res.Src) == 0 {
		return nil, nil
	}
	return &imap.CopyData{UIDValidity: res.UIDValidity, SourceUIDs: uidSet(res.Src), DestUIDs: uidSet(res.Dst)}, nil
}

// Move moves messages (RFC 6851): COPYUID first, then the EXPUNGEs, which
// reach this session through its queue.
func (s *Session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	sel := s.sel
	if sel.readOnly {
		return errReadOnly
	}
	dst, err := s.destination(dest)
	if err != nil {
		return err
	}
	items := sel.resolve(numSet)
	if len(items) == 0 {
		return nil
	}
	res, err := s.moveUIDs(&sel.folder, dst, itemUIDs(items))
	if err != nil {
		return s.fail(err, "move")
	}
	if len(res.Src) > 0 {
		if err := w.WriteCopyData(&imap.CopyData{UIDValidity: res.UIDValidity, SourceUIDs: uidSet(res.Src), DestUIDs: uidSet(res.Dst)}); err != nil {
			return err
		}
	}
	if err := sel.hub.sync(s.ctx, nil, nil); err != nil {
		s.log.Warn("sync folder", "err", err)
	}
	if dst.ID != sel.folder.ID {
		s.srv.syncFolder(s.ctx, dst.ID)
	}
	return nil
}
