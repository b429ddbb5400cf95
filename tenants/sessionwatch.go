package tenants

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultSessionCheck is how often a SessionWatch checks its sessions'
// logins: a disable, an expiry or a password change ends the open
// sessions of the account within about this long.
const DefaultSessionCheck = 30 * time.Second

// SessionWatch ends open protocol sessions (IMAP, POP3, SMTP submission)
// whose login no longer holds: the mailbox was removed, disabled (or its
// domain), has expired, or its password changed (its credentials version
// moved on). Several processes share the database, so the check reads it:
// one watch per process batches the mailboxes of all its open sessions
// into one query per Interval (in chunks), however many sessions are idle.
// Panel sessions check their login on every request instead (SessionLogin).
type SessionWatch struct {
	svc *Service
	// Interval is the time between checks; set it before Run. Tests
	// shorten it.
	Interval time.Duration

	mu   sync.Mutex
	next uint64
	open map[uint64]watchedSession
}

type watchedSession struct {
	mailboxID int64
	version   int64
	appPassID int64 // the app password it logged in with; 0: none
	since     time.Time
	end       func()
}

// NewSessionWatch returns a watch checking every DefaultSessionCheck; Run
// runs it.
func (s *Service) NewSessionWatch() *SessionWatch {
	return &SessionWatch{svc: s, Interval: DefaultSessionCheck, open: map[uint64]watchedSession{}}
}

// Watch adds the session of a mailbox login: end is called (once, from the
// watch's goroutine) when the login no longer holds. The returned function
// removes the session, when it ends by itself. Administrators' logins have
// no protocol sessions and are not watched.
func (w *SessionWatch) Watch(l *Login, end func()) (stop func()) {
	if l == nil || l.Mailbox == nil {
		return func() {}
	}
	w.mu.Lock()
	w.next++
	id := w.next
	ws := watchedSession{mailboxID: l.Mailbox.ID, version: l.Mailbox.CredentialsVersion, since: w.svc.clock(), end: end}
	if l.AppPassword != nil {
		ws.appPassID = l.AppPassword.ID
	}
	w.open[id] = ws
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(w.open, id)
		w.mu.Unlock()
	}
}

// Open is the number of sessions watched.
func (w *SessionWatch) Open() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.open)
}

// Run checks every Interval until ctx ends. A failed check is logged and
// tried again at the next interval (sessions go on meanwhile).
func (w *SessionWatch) Run(ctx context.Context) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.svc.log.WarnContext(ctx, "check open sessions", "err", err)
		}
	}
}

// Check checks every watched session once and ends those whose login no
// longer holds.
func (w *SessionWatch) Check(ctx context.Context) error {
	w.mu.Lock()
	// Sessions added while the query runs are left to the next check:
	// what it read may predate their login.
	upTo := w.next
	seen := map[int64]bool{}
	ids := make([]int64, 0, len(w.open))
	var appIDs []int64
	for _, s := range w.open {
		if !seen[s.mailboxID] {
			seen[s.mailboxID] = true
			ids = append(ids, s.mailboxID)
		}
		if s.appPassID != 0 {
			appIDs = append(appIDs, s.appPassID)
		}
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	valid, err := w.svc.loginsHolding(ctx, ids)
	if err != nil {
		return err
	}
	apps, err := w.svc.appPasswordsHolding(ctx, appIDs)
	if err != nil {
		return err
	}
	var ends []func()
	w.mu.Lock()
	for id, s := range w.open {
		if id > upTo {
			continue
		}
		v, ok := valid[s.mailboxID]
		ended := ok && v.endedAt != nil && !s.since.After(*v.endedAt)
		if !ok || v.version != s.version || ended || (s.appPassID != 0 && !apps[s.appPassID]) {
			delete(w.open, id)
			ends = append(ends, s.end)
		}
	}
	w.mu.Unlock()
	for _, end := range ends {
		end()
	}
	return nil
}

// sessionCheckChunk bounds the ids of one query.
const sessionCheckChunk = 500

// holding is a mailbox whose login holds: its credentials version and
// when its user last ended their protocol sessions.
type holding struct {
	version int64
	endedAt *time.Time
}

// loginsHolding returns, of the mailboxes ids, those that may still log in
// (exist, are active in an active domain, have not expired: the rule
// ResolveLogin and SessionLogin apply, mailboxRefusal), each with its
// current credentials version. A system-scope entry point.
func (s *Service) loginsHolding(ctx context.Context, ids []int64) (map[int64]holding, error) {
	db := s.db.Read(ctx)
	now := s.clock()
	out := make(map[int64]holding, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), sessionCheckChunk)]
		ids = ids[len(chunk):]
		var ms []Mailbox
		if err := db.Where("id IN ?", chunk).Find(&ms).Error; err != nil {
			return nil, fmt.Errorf("check sessions' mailboxes: %w", err)
		}
		domainIDs := make([]int64, 0, len(ms))
		for _, m := range ms {
			domainIDs = append(domainIDs, m.DomainID)
		}
		var ds []Domain
		if len(domainIDs) > 0 {
			if err := db.Where("id IN ?", domainIDs).Find(&ds).Error; err != nil {
				return nil, fmt.Errorf("check sessions' domains: %w", err)
			}
		}
		byID := make(map[int64]*Domain, len(ds))
		for i := range ds {
			byID[ds[i].ID] = &ds[i]
		}
		for i := range ms {
			m := &ms[i]
			if d := byID[m.DomainID]; d != nil && mailboxRefusal(m, d, now) == 0 {
				out[m.ID] = holding{version: m.CredentialsVersion, endedAt: m.SessionsEndedAt}
			}
		}
	}
	return out, nil
}

// appPasswordsHolding returns which of the app passwords ids still exist
// (a revoked one is deleted).
func (s *Service) appPasswordsHolding(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	db := s.db.Read(ctx)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), sessionCheckChunk)]
		ids = ids[len(chunk):]
		var found []int64
		if err := db.Model(&AppPassword{}).Where("id IN ?", chunk).Pluck("id", &found).Error; err != nil {
			return nil, fmt.Errorf("check sessions' app passwords: %w", err)
		}
		for _, id := range found {
			out[id] = true
		}
	}
	return out, nil
}
