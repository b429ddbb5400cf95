package imapd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// A hub follows one folder for the sessions of this process that have it
// selected. It keeps the folder's UIDs as the store last had them and, on
// every change, reads what changed since (store.Changes, by modseq) and
// queues updates to each session: EXPUNGE, FLAGS for new keywords, FETCH
// FLAGS, EXISTS (with \Recent for one session). A change made by a
// session is synced at once, within its command; changes from elsewhere
// arrive through store.Watch, which the store fires for this process's
// writes and, on PostgreSQL, for other processes' (ListenPostgres).
//
// go-imap's MailboxTracker and SessionTracker do this job in its in-memory
// example, but their sequence-number mapping goes wrong when several
// messages arrive in one update (SessionTracker.EncodeSeqNum, "TODO: this
// doesn't handle increments > 1") and they don't tell the backend what a
// client has been told, which FETCH and SEARCH need. So each session keeps
// its own view (selected.go) and writes its updates through go-imap's
// UpdateWriter.
type hub struct {
	srv       *Server
	folderID  int64
	mailboxID int64

	syncMu sync.Mutex // one sync at a time; held while a session joins

	mu       sync.Mutex
	uids     []uint32 // never changed in place: sessions share it
	modseq   int64
	keywords map[string]bool
	sessions []*selected
	refs     int
	gone     bool // the folder was deleted
	// maxPending bounds each session's queue (updateQueue); a field
	// rather than the constant so that tests can lower it.
	maxPending int

	stopWatch func()
	done      chan struct{}
}

type updateKind int

const (
	updExpunge updateKind = iota
	updExists
	updFlags
	updMailboxFlags
)

// update is one change queued for a session.
type update struct {
	kind     updateKind
	uid      uint32   // expunge, flags
	modseq   int64    // flags
	flags    []string // flags: the message's flags as the store has them
	uids     []uint32 // exists: the new messages
	recent   []uint32 // exists: those \Recent for this session
	keywords []string // mailbox flags
	// merged: a flags update that replaced a queued one, so it tells of a
	// change the session has not been told, even when it bears the
	// session's own modseq (dropOwn keeps it).
	merged bool
}

// defaultMaxPending is how many updates may wait for one session, each
// arriving message counted; a client that does not read (no command, no
// IDLE) on a busy folder would otherwise make its queue grow without end.
const defaultMaxPending = 10000

// updateQueue holds the updates waiting for one session, guarded by the
// hub's mutex. Only a message's last flags matter, so a flag update
// replaces the one queued for the same message, as a FLAGS update does
// the one before it; expunges and arrivals stay in order. Past the limit
// the queue is dropped and the session marked for a resync: at its next
// chance to send EXPUNGE it compares its view with the folder and reports
// the difference (selected.resync), so that it never holds more than the
// limit, whatever happens while its client sleeps.
type updateQueue struct {
	items  []update
	flagAt map[uint32]int // UID to the index in items of its flags update
	kwAt   int            // 1 + the index of the FLAGS update; 0: none
	size   int            // updates queued, each arriving message counted
	resync bool           // items were dropped
	// recent holds, while a resync is pending, the UIDs of arrivals the
	// session claimed as \Recent (one span per claim, the latest
	// maxRecentSpans), which the dropped EXISTS updates carried.
	recent []span
	// synced is the hub's modseq when items was last emptied without a
	// resync pending: the client has been told of every change up to it.
	// A resync reports the flags of messages changed after it.
	synced int64
}

// maxRecentSpans bounds updateQueue.recent. Claims by one session
// follow each other and merge into one span unless another session
// claims in between.
const maxRecentSpans = 64

// push queues u, or marks the queue for a resync if that would take it
// past limit.
func (q *updateQueue) push(u update, limit int) {
	if q.resync {
		q.keepRecent(u)
		return
	}
	switch {
	case u.kind == updFlags:
		if i, ok := q.flagAt[u.uid]; ok {
			u.merged = true
			q.items[i] = u
			return
		}
	case u.kind == updMailboxFlags && q.kwAt > 0:
		// The list is the folder's whole keyword list, a superset of the
		// one it replaces; announcing it earlier does no harm.
		q.items[q.kwAt-1] = u
		return
	}
	if q.size+weight(u) > limit {
		q.overflow()
		return
	}
	q.add(u)
}

// refresh replaces the flags queued for a message, if any, with newer
// ones. A session's own flag changes are not queued to it (its command
// reports them), but an older queued change of the same message must not
// be written after that report with the flags it had before.
func (q *updateQueue) refresh(u update) {
	if i, ok := q.flagAt[u.uid]; ok {
		u.merged = true
		q.items[i] = u
	}
}

// dropOwn removes queued flag updates that are a session's own changes
// (own: UID to the modseq it set), which its command reports itself.
func (q *updateQueue) dropOwn(own map[uint32]int64) {
	drop := false
	for uid, ms := range own {
		if i, ok := q.flagAt[uid]; ok && q.items[i].modseq == ms && !q.items[i].merged {
			drop = true
			break
		}
	}
	if !drop {
		return
	}
	items := q.items
	q.items, q.flagAt, q.kwAt, q.size = make([]update, 0, len(items)), nil, 0, 0
	for _, u := range items {
		if u.kind == updFlags && own[u.uid] == u.modseq && !u.merged {
			continue
		}
		q.add(u)
	}
}

func (q *updateQueue) add(u update) {
	switch u.kind {
	case updFlags:
		if q.flagAt == nil {
			q.flagAt = map[uint32]int{}
		}
		q.flagAt[u.uid] = len(q.items)
	case updMailboxFlags:
		q.kwAt = len(q.items) + 1
	}
	q.size += weight(u)
	q.items = append(q.items, u)
}

func weight(u update) int {
	if u.kind == updExists {
		return len(u.uids)
	}
	return 1
}

func (q *updateQueue) overflow() {
	for _, u := range q.items {
		q.keepRecent(u)
	}
	q.items, q.flagAt, q.kwAt, q.size = nil, nil, 0, 0
	q.resync = true
}

// keepRecent notes the \Recent arrivals of an EXISTS update that is
// dropped. They are a run of the update's UIDs, and every message with a
// UID between its first and last is in the run: the span holds them and
// no other message.
func (q *updateQueue) keepRecent(u update) {
	if u.kind != updExists || len(u.recent) == 0 {
		return
	}
	sp := span{u.recent[0], u.recent[len(u.recent)-1]}
	if n := len(q.recent); n > 0 && uint64(sp.lo) <= uint64(q.recent[n-1].hi)+1 {
		q.recent[n-1].hi = max(q.recent[n-1].hi, sp.hi)
		return
	}
	if len(q.recent) == maxRecentSpans {
		q.recent = q.recent[1:] // the oldest claims lose \Recent
	}
	q.recent = append(q.recent, sp)
}

// take removes and returns the queued updates; without allowExpunge, only
// those before the first EXPUNGE (RFC 9051 7.5.1).
func (q *updateQueue) take(allowExpunge bool) []update {
	n := len(q.items)
	if !allowExpunge {
		for i, u := range q.items {
			if u.kind == updExpunge {
				n = i
				break
			}
		}
	}
	out, rest := q.items[:n:n], q.items[n:]
	q.items, q.flagAt, q.kwAt, q.size = nil, nil, 0, 0
	if len(rest) > 0 {
		q.items = make([]update, 0, len(rest))
		for _, u := range rest {
			q.add(u)
		}
	}
	return out
}

// acquireHub returns the folder's hub, starting it if needed; releaseHub
// must follow.
func (s *Server) acquireHub(ctx context.Context, f *store.Folder) (*hub, error) {
	s.hubsMu.Lock()
	defer s.hubsMu.Unlock()
	if h := s.hubs[f.ID]; h != nil {
		h.mu.Lock()
		h.refs++
		h.mu.Unlock()
		return h, nil
	}
	h := &hub{srv: s, folderID: f.ID, mailboxID: f.MailboxID, keywords: map[string]bool{}, refs: 1, done: make(chan struct{}),
		maxPending: defaultMaxPending}
	// Watch before reading, so that nothing committed meanwhile is
	// missed; a change seen twice is harmless.
	ch, stop := s.cfg.Store.Watch(f.ID)
	h.stopWatch = stop
	st, err := s.cfg.Store.FolderStatus(ctx, f)
	if err == nil {
		h.modseq = st.HighestModSeq
		h.uids, err = s.cfg.Store.UIDs(ctx, f.ID)
	}
	var kws []string
	if err == nil {
		kws, err = s.cfg.Store.FolderKeywords(ctx, f.ID)
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("open folder: %w", err)
	}
	for _, k := range kws {
		h.keywords[k] = true
	}
	s.hubs[f.ID] = h
	s.wg.Add(1)
	go h.watch(ch)
	return h, nil
}

func (s *Server) releaseHub(h *hub) {
	s.hubsMu.Lock()
	defer s.hubsMu.Unlock()
	h.mu.Lock()
	h.refs--
	last := h.refs == 0
	h.mu.Unlock()
	if last {
		delete(s.hubs, h.folderID)
		h.stopWatch()
		close(h.done)
	}
}

// syncFolder syncs a folder's hub in this process, if there is one, so
// that its sessions learn of a change this process just made before the
// command that made it ends.
func (s *Server) syncFolder(ctx context.Context, folderID int64) {
	s.hubsMu.Lock()
	h := s.hubs[folderID]
	if h != nil {
		h.mu.Lock()
		h.refs++
		h.mu.Unlock()
	}
	s.hubsMu.Unlock()
	if h == nil {
		return
	}
	defer s.releaseHub(h)
	if err := h.sync(ctx, nil, nil); err != nil {
		s.log.Warn("sync folder", "folder", folderID, "err", err)
	}
}

// watch syncs on the store's change notifications until the hub stops.
func (h *hub) watch(ch <-chan struct{}) {
	defer h.srv.wg.Done()
	for {
		select {
		case <-h.done:
			return
		case <-h.srv.ctx.Done():
			return
		case <-ch:
			if err := h.sync(h.srv.ctx, nil, nil); err != nil && h.srv.ctx.Err() == nil {
				h.srv.log.Warn("sync folder", "folder", h.folderID, "err", err)
			}
		}
	}
}

// join adds a session, whose view starts as the hub's UIDs now; claim
// runs with no sync in between, so that the session's \Recent messages
// are exactly those of its starting view.
func (h *hub) join(sel *selected, claim func(view []uint32) error) error {
	h.syncMu.Lock()
	defer h.syncMu.Unlock()
	h.mu.Lock()
	sel.view = h.uids[:len(h.uids):len(h.uids)]
	sel.q.synced = h.modseq
	sel.announced = make(map[string]bool, len(h.keywords))
	for k := range h.keywords {
		sel.announced[k] = true
	}
	h.mu.Unlock()
	if err := claim(sel.view); err != nil {
		return err
	}
	h.mu.Lock()
	h.sessions = append(h.sessions, sel)
	h.mu.Unlock()
	return nil
}

func (h *hub) leave(sel *selected) {
	h.mu.Lock()
	for i, s := range h.sessions {
		if s == sel {
			h.sessions = append(h.sessions[:i:i], h.sessions[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	h.srv.releaseHub(h)
}

// keywordList returns the folder's keywords, sorted.
func (h *hub) keywordList() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return sortedKeys(h.keywords)
}

// sync reads the folder's changes since the last sync and queues them to
// every session. A session that made the change (source) is not told of
// flag changes it made itself (own: UID to the modseq it set), which it
// reports in its own command's responses.
func (h *hub) sync(ctx context.Context, source *selected, own map[uint32]int64) error {
	err := h.syncChanges(ctx, source, own)
	if source != nil && len(own) > 0 {
		// The hub's watcher may have read the source's changes first and
		// queued them to it like anyone else's. Once this sync is done
		// (syncMu orders them) every one of them is queued, and can go.
		h.mu.Lock()
		source.q.dropOwn(own)
		h.mu.Unlock()
	}
	return err
}

func (h *hub) syncChanges(ctx context.Context, source *selected, own map[uint32]int64) error {
	h.syncMu.Lock()
	defer h.syncMu.Unlock()
	st := h.srv.cfg.Store
	// The store reads the changes a page at a time (store.ReadChanges),
	// so that no query returns a whole folder's rows at once.
	var changed []store.Message
	var gone []uint32
	highest, err := st.ReadChanges(ctx, h.folderID, h.modseq, func(p store.ChangePage) error {
		changed = append(changed, p.Changed...)
		gone = append(gone, p.Gone...)
		return nil
	})
	if err != nil {
		if _, ferr := st.FolderByID(ctx, h.mailboxID, h.folderID); errors.Is(ferr, store.ErrNoFolder) {
			h.vanish()
			return nil
		}
		return fmt.Errorf("read folder changes: %w", err)
	}
	if highest <= h.modseq {
		return nil
	}
	// Only sync changes h.uids, and sync holds syncMu.
	cur := h.uids
	goneSet := make(map[uint32]bool, len(gone))
	for _, u := range gone {
		goneSet[u] = true
	}
	next := cur
	var expunged []uint32
	if len(gone) > 0 {
		next = make([]uint32, 0, len(cur))
		for _, u := range cur {
			if goneSet[u] {
				expunged = append(expunged, u)
			} else {
				next = append(next, u)
			}
		}
	}
	var last uint32
	if len(cur) > 0 {
		last = cur[len(cur)-1]
	}
	var flagUpd []update
	var added []uint32
	newKw := map[string]bool{}
	for i := range changed {
		m := &changed[i]
		if goneSet[m.UID] {
			continue
		}
		if contains(cur, m.UID) {
			flagUpd = append(flagUpd, update{kind: updFlags, uid: m.UID, modseq: m.ModSeq, flags: m.Flags()})
		} else if m.UID > last {
			added = append(added, m.UID)
		}
		for _, k := range strings.Fields(m.Keywords) {
			newKw[k] = true
		}
	}
	if len(added) > 0 {
		next = append(next[:len(next):len(next)], added...)
	}

	// New messages are \Recent for one read-write session of this process
	// (or another's, whichever claims them first).
	var claimer *selected
	var recentFrom uint32
	if len(added) > 0 {
		h.mu.Lock()
		for _, s := range h.sessions {
			if !s.readOnly {
				claimer = s
				break
			}
		}
		h.mu.Unlock()
		if claimer != nil {
			from, err := claimRecent(h.srv, h.folderID, added[len(added)-1]+1)
			if err != nil {
				h.srv.log.Warn("claim recent", "err", err)
				claimer = nil
			}
			recentFrom = from
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range newKw {
		if h.keywords[k] {
			delete(newKw, k)
		} else {
			h.keywords[k] = true
		}
	}
	h.uids, h.modseq = next, highest
	var kwList []string
	if len(newKw) > 0 {
		kwList = sortedKeys(h.keywords)
	}
	for _, s := range h.sessions {
		q := &s.q
		for _, u := range expunged {
			q.push(update{kind: updExpunge, uid: u}, h.maxPending)
		}
		if kwList != nil {
			q.push(update{kind: updMailboxFlags, keywords: kwList}, h.maxPending)
		}
		for _, u := range flagUpd {
			if s == source && own[u.uid] == u.modseq {
				q.refresh(u)
				continue
			}
			q.push(u, h.maxPending)
		}
		if len(added) > 0 {
			u := update{kind: updExists, uids: added}
			if s == claimer {
				i := sort.Search(len(added), func(i int) bool { return added[i] >= recentFrom })
				u.recent = added[i:]
			}
			q.push(u, h.maxPending)
		}
		s.signal()
	}
	return nil
}

// vanish empties the view of every session when the folder was deleted.
func (h *hub) vanish() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gone {
		return
	}
	h.gone = true
	for _, s := range h.sessions {
		for _, u := range h.uids {
			s.q.push(update{kind: updExpunge, uid: u}, h.maxPending)
		}
		s.signal()
	}
	h.uids = nil
}

// contains reports whether sorted uids holds u.
func contains(uids []uint32, u uint32) bool {
	i := sort.Search(len(uids), func(i int) bool { return uids[i] >= u })
	return i < len(uids) && uids[i] == u
}
