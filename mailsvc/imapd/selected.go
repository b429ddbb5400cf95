package imapd

import (
	"errors"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// selected is a session's view of its selected folder: the UIDs its
// client knows, in sequence-number order, and the updates queued for it
// (guarded by the hub's mutex). Only the session's goroutine (or its IDLE
// goroutine, while the other waits) touches the rest.
type selected struct {
	sess     *Session
	hub      *hub
	folder   store.Folder
	readOnly bool

	view      []uint32 // never changed in place: it may be the hub's
	recent    map[uint32]bool
	announced map[string]bool // keywords the client was told of in FLAGS
	searchRes []uint32        // SEARCHRES's $ (RFC 5182), UIDs
	pending   []update        // hub.mu
	wake      chan struct{}
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
	st, err := s.st.FolderStatus(s.ctx, f)
	if err != nil {
		sel.close()
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
	data := &imap.SelectData{
		Flags: flags, PermanentFlags: perm, NumMessages: uint32(len(sel.view)), NumRecent: uint32(len(sel.recent)),
		UIDNext: imap.UID(uidNext), UIDValidity: f.UIDValidity,
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
// sequence numbers under the client (RFC 9051 7.5.1).
func (sel *selected) flush(w *imapserver.UpdateWriter, allowExpunge bool) error {
	h := sel.hub
	h.mu.Lock()
	n := len(sel.pending)
	if !allowExpunge {
		for i, u := range sel.pending {
			if u.kind == updExpunge {
				n = i
				break
			}
		}
	}
	take := sel.pending[:n]
	sel.pending = append([]update(nil), sel.pending[n:]...)
	h.mu.Unlock()
	for _, u := range take {
		switch u.kind {
		case updExpunge:
			i := sort.Search(len(sel.view), func(i int) bool { return sel.view[i] >= u.uid })
			if i == len(sel.view) || sel.view[i] != u.uid {
				continue
			}
			if err := w.WriteExpunge(uint32(i + 1)); err != nil {
				return err
			}
			v := make([]uint32, 0, len(sel.view)-1)
			sel.view = append(append(v, sel.view[:i]...), sel.view[i+1:]...)
			delete(sel.recent, u.uid)
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
			if err := w.WriteMessageFlags(uint32(i+1), imap.UID(u.uid), sel.imapFlags(u.uid, u.flags)); err != nil {
				return err
			}
		}
	}
	return nil
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
// command that shows them (FETCH, STORE). go-imap gives those commands no
// UpdateWriter, so the front layer writes the lines; nothing of go-imap's
// is pending at that point (the command's responses have not begun).
func (sel *selected) announceDirect(keywords []string) {
	if !sel.unannounced(keywords) {
		return
	}
	all := sel.allKeywords(keywords)
	for _, k := range all {
		sel.announced[k] = true
	}
	list := make([]string, len(all))
	for i, k := range all {
		list[i] = k
	}
	flags := `\Seen \Answered \Flagged \Deleted \Draft`
	if len(list) > 0 {
		flags += " " + strings.Join(list, " ")
	}
	f := sel.sess.cs.front
	f.writeLine("* FLAGS (" + flags + ")")
	if !sel.readOnly {
		f.writeLine(`* OK [PERMANENTFLAGS (` + flags + ` \*)] Flags permitted`)
	}
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
// names, in order. Numbers past the end name nothing; "*" is the last
// message (its UID for UID sets).
func (sel *selected) resolve(numSet imap.NumSet) []item {
	view := sel.view
	n := uint32(len(view))
	var out []item
	if imap.IsSearchRes(numSet) {
		for i, u := range view {
			if contains(sel.searchRes, u) {
				out = append(out, item{uint32(i + 1), u})
			}
		}
		return out
	}
	switch set := numSet.(type) {
	case imap.SeqSet:
		if n == 0 {
			return nil
		}
		mark := make([]bool, n+1)
		for _, r := range set {
			a, b := r.Start, r.Stop
			if a == 0 {
				a = n
			}
			if b == 0 {
				b = n
			}
			if a > b {
				a, b = b, a
			}
			for q := a; q <= min(b, n); q++ {
				mark[q] = true
			}
		}
		for q := uint32(1); q <= n; q++ {
			if mark[q] {
				out = append(out, item{q, view[q-1]})
			}
		}
	case imap.UIDSet:
		var last uint32
		if n > 0 {
			last = view[n-1]
		}
		for i, u := range view {
			if uidSetContains(set, u, last) {
				out = append(out, item{uint32(i + 1), u})
			}
		}
	}
	return out
}

func uidSetContains(set imap.UIDSet, uid, last uint32) bool {
	for _, r := range set {
		a, b := uint32(r.Start), uint32(r.Stop)
		if a == 0 {
			a = last
		}
		if b == 0 {
			b = last
		}
		if a > b {
			a, b = b, a
		}
		if uid >= a && uid <= b {
			return true
		}
	}
	return false
}

func itemUIDs(items []item) []uint32 {
	out := make([]uint32, len(items))
	for i, it := range items {
		out[i] = it.uid
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func uidRanges(uids []uint32) []store.UIDRange {
	var rs []store.UIDRange
	for _, u := range uids {
		if n := len(rs); n > 0 && rs[n-1].Stop+1 == u {
			rs[n-1].Stop = u
			continue
		}
		rs = append(rs, store.UIDRange{Start: u, Stop: u})
	}
	return rs
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
	changed, err := s.storeFlags(sel.folder.ID, uids, op, storeFlags(flags.Flags))
	if err != nil {
		return s.fail(err, "store flags")
	}
	own := make(map[uint32]int64, len(changed))
	for _, m := range changed {
		own[m.UID] = m.ModSeq
	}
	if err := sel.hub.sync(s.ctx, sel, own); err != nil {
		s.log.Warn("sync folder", "err", err)
	}
	if flags.Silent {
		return nil
	}
	rows, err := s.st.MessagesMeta(s.ctx, s.mailboxID, sel.folder.ID, uids, store.MetaColumns{})
	if err != nil {
		return s.fail(err, "store flags")
	}
	byUID := make(map[uint32]*store.MessageMeta, len(rows))
	var kws []string
	for i := range rows {
		byUID[rows[i].UID] = &rows[i]
		kws = append(kws, strings.Fields(rows[i].Keywords)...)
	}
	sel.announceDirect(kws)
	withUID := strings.HasPrefix(s.cs.command(), "UID ")
	for _, it := range items {
		m := byUID[it.uid]
		if m == nil {
			continue
		}
		resp := w.CreateMessage(it.seq)
		if withUID {
			resp.WriteUID(imap.UID(it.uid))
		}
		resp.WriteFlags(sel.imapFlags(it.uid, m.Flags()))
		if err := resp.Close(); err != nil {
			return err
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
		if s.cs.command() == "CLOSE" {
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
