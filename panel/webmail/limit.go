package webmail

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// Defaults of the bounds on heavy work (Config.HeavyPerUser, HeavyTotal,
// HeavyWait).
const (
	defaultHeavyPerUser = 2
	defaultHeavyWait    = 5 * time.Second
)

// Errors of heavyLimit.acquire.
var (
	errUserBusy   = errors.New("too many heavy requests of this mailbox at once")
	errServerBusy = errors.New("too many heavy requests at once")
)

// heavyLimit bounds the work that reads and parses whole messages (a
// message shown, its HTML frame, an attachment, a reply's quote, a body
// search): at most perUser requests of one mailbox and total requests in
// all at once. A request past a bound waits up to wait for a slot, then is
// refused, so that one user's many tabs queue behind each other instead of
// taking every core from the other tenants (issue 11).
type heavyLimit struct {
	perUser int
	wait    time.Duration
	total   chan struct{}

	mu    sync.Mutex
	users map[int64]*userSlots
}

// userSlots are one mailbox's slots; refs counts the requests holding or
// waiting for one, so that the entry goes when the last one leaves.
type userSlots struct {
	slots chan struct{}
	refs  int
}

func newHeavyLimit(perUser, total int, wait time.Duration) *heavyLimit {
	return &heavyLimit{perUser: perUser, wait: wait, total: make(chan struct{}, total), users: map[int64]*userSlots{}}
}

// acquire takes a slot of mailboxID and one of the server's, waiting up to
// l.wait in all; release gives them back. It fails with errUserBusy,
// errServerBusy or ctx's error.
func (l *heavyLimit) acquire(ctx context.Context, mailboxID int64) (release func(), err error) {
	l.mu.Lock()
	u := l.users[mailboxID]
	if u == nil {
		u = &userSlots{slots: make(chan struct{}, l.perUser)}
		l.users[mailboxID] = u
	}
	u.refs++
	l.mu.Unlock()
	leave := func() {
		l.mu.Lock()
		if u.refs--; u.refs == 0 {
			delete(l.users, mailboxID)
		}
		l.mu.Unlock()
	}
	timer := time.NewTimer(l.wait)
	defer timer.Stop()
	select {
	case u.slots <- struct{}{}:
	case <-timer.C:
		leave()
		return nil, errUserBusy
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	select {
	case l.total <- struct{}{}:
	case <-timer.C:
		<-u.slots
		leave()
		return nil, errServerBusy
	case <-ctx.Done():
		<-u.slots
		leave()
		return nil, ctx.Err()
	}
	return func() {
		<-l.total
		<-u.slots
		leave()
	}, nil
}

// heavy runs fn holding a slot of the signed-in mailbox; past the bounds
// the user gets a page saying to try again (429 for their own requests,
// 503 when the server is busy).
func (h handlers) heavy(c echo.Context, acct account, fn func() error) error {
	release, err := h.limit.acquire(c.Request().Context(), acct.mailboxID)
	switch {
	case errors.Is(err, errUserBusy):
		c.Response().Header().Set("Retry-After", "5")
		return request.Refuse(http.StatusTooManyRequests, "You have too many messages opening at once: wait for them, then try again.")
	case errors.Is(err, errServerBusy):
		c.Response().Header().Set("Retry-After", "5")
		return request.Refuse(http.StatusServiceUnavailable, "The server is busy: try again in a moment.")
	case err != nil:
		return err
	}
	defer release()
	return fn()
}
