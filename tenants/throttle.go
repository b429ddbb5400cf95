package tenants

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ThrottleConfig is the login throttle every protocol and the panel share
// (Mailtraq's dictionary attack prevention): after FreeFailures failures of
// an account a login failure is answered only after a delay that doubles up
// to MaxDelay; an account is locked for LockFor after AccountLockAfter
// failures from one address, for that address (see throttleKeys), a remote
// address after AddressLockAfter. Failures older than Window are forgotten.
type ThrottleConfig struct {
	FreeFailures     int64
	BaseDelay        time.Duration
	MaxDelay         time.Duration
	AccountLockAfter int64
	AddressLockAfter int64
	LockFor          time.Duration
	Window           time.Duration
}

// DefaultThrottle: 3 free failures, 1 s doubling to 8 s, an account locked
// after 10 failures from one address and an address after 50, for 15
// minutes; failures forgotten after an hour.
func DefaultThrottle() ThrottleConfig {
	return ThrottleConfig{
		FreeFailures: 3, BaseDelay: time.Second, MaxDelay: 8 * time.Second,
		AccountLockAfter: 10, AddressLockAfter: 50, LockFor: 15 * time.Minute, Window: time.Hour,
	}
}

func (c ThrottleConfig) delay(failures int64) time.Duration {
	n := failures - c.FreeFailures
	if n <= 0 {
		return 0
	}
	d := c.BaseDelay
	for i := int64(1); i < n && d < c.MaxDelay; i++ {
		d *= 2
	}
	return min(d, c.MaxDelay)
}

func accountKey(name string) string { return "account:" + strings.ToLower(name) }

// addressKey groups IPv6 clients by /64, since one host usually holds the
// whole prefix.
func addressKey(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if host == "" {
			return ""
		}
		return "addr:" + host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + ip.String()
}

// throttleKey is one counter an attempt is charged to, with the number of
// failures that locks it (0: the key only earns delays); a right password
// clears the failures of the key marked own (this account from this
// address).
type throttleKey struct {
	key  string
	lock int64
	own  bool
}

// throttleKeys are the counters of a login as account from addr.
//
// Locks are kept per account and address together, and per address: a
// stranger guessing an account's password from one address locks that
// account for that address only, so the owner (or an administrator) logging
// in from anywhere else is never locked out by someone else's guesses. Each
// address is locked on its own after AddressLockAfter failures, whatever
// accounts it tried. The account alone is never locked; its failures from
// every address earn the delay (doubling to MaxDelay) before each further
// failure is answered, the way Dovecot's auth penalty slows a distributed
// guesser without locking the owner out. A login without an address (none
// known) is locked per account.
func (s *Service) throttleKeys(account, addr string) []throttleKey {
	if addr == "" {
		return []throttleKey{{account, s.throttle.AccountLockAfter, true}}
	}
	return []throttleKey{
		{account, 0, false},
		{account + "|" + addr, s.throttle.AccountLockAfter, true},
		{addr, s.throttle.AddressLockAfter, false},
	}
}

// pendingStale is how long a check may stay pending: one left by a process
// that died mid-check stops counting after it.
const pendingStale = time.Minute

// slotWait is how often a login waiting for a check slot looks again, and
// slotWaitMax how long it waits at most before it is answered as locked.
const (
	slotWait    = 20 * time.Millisecond
	slotWaitMax = 30 * time.Second
)

// reservation is a login's claim on its keys' check slots; settle it with
// failure, success or release.
type reservation struct {
	keys    []throttleKey
	settled bool
}

// reserve claims a check slot on each key that locks, before the password
// is checked. Only settled failures are counted, but a key's failures plus
// its checks in flight may not pass its lock threshold: a burst of parallel
// guesses can't slip under the lock, and a burst of right passwords (a
// client opening several connections, a webmail host logging many users in
// from one address) waits for a slot at most as long as the checks ahead of
// it take, instead of being refused. A locked key refuses at once.
func (s *Service) reserve(ctx context.Context, keys []throttleKey) (*reservation, bool, error) {
	deadline := time.NewTimer(slotWaitMax)
	defer deadline.Stop()
	for {
		got, locked, err := s.tryReserve(ctx, keys)
		if err != nil || locked || got {
			if err != nil {
				return nil, false, fmt.Errorf("login throttle: %w", err)
			}
			// A locked login claimed no slot: nothing to give back.
			return &reservation{keys: keys, settled: locked}, locked, nil
		}
		t := time.NewTimer(slotWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
		case <-deadline.C:
			t.Stop()
			return &reservation{keys: keys, settled: true}, true, nil
		case <-t.C:
		}
	}
}

func (s *Service) tryReserve(ctx context.Context, keys []throttleKey) (got, locked bool, err error) {
	now := s.clock()
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		got, locked = false, false
		rows := make([]loginFailure, len(keys))
		full := false
		for i, k := range keys {
			if k.lock <= 0 {
				continue
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
				Create(&loginFailure{ThrottleKey: k.key, LastAt: now}).Error; err != nil {
				return err
			}
			f := &rows[i]
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("throttle_key = ?", k.key).Take(f).Error; err != nil {
				return err
			}
			if f.LockedUntil != nil && f.LockedUntil.After(now) {
				locked = true
			}
			s.age(f, now)
			if f.Failures+f.Pending >= k.lock {
				full = true
			}
		}
		if locked || full {
			return nil
		}
		for i, k := range keys {
			if k.lock <= 0 {
				continue
			}
			f := &rows[i]
			f.Pending++
			f.PendingAt = ptr(now)
			if err := tx.Save(f).Error; err != nil {
				return err
			}
		}
		got = true
		return nil
	})
	return got, locked, err
}

// age forgets failures older than the window and checks pending for longer
// than a check takes.
func (s *Service) age(f *loginFailure, now time.Time) {
	if now.Sub(f.LastAt) > s.throttle.Window {
		f.Failures = 0
	}
	if f.PendingAt == nil || now.Sub(*f.PendingAt) > pendingStale {
		f.Pending = 0
	}
}

// failure settles a reserved login as failed: the failure is counted on
// every key, a key reaching its threshold is locked, and the delay to wait
// before answering is returned.
func (s *Service) failure(ctx context.Context, r *reservation) (time.Duration, error) {
	r.settled = true
	now := s.clock()
	var delay time.Duration
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		delay = 0
		for _, k := range r.keys {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
				Create(&loginFailure{ThrottleKey: k.key, LastAt: now}).Error; err != nil {
				return err
			}
			var f loginFailure
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("throttle_key = ?", k.key).Take(&f).Error; err != nil {
				return err
			}
			s.age(&f, now)
			if k.lock > 0 && f.Pending > 0 {
				f.Pending--
			}
			f.Failures++
			f.LastAt = now
			delay = max(delay, s.throttle.delay(f.Failures))
			if k.lock > 0 && f.Failures >= k.lock {
				f.LockedUntil = ptr(now.Add(s.throttle.LockFor))
				f.Failures = 0
			}
			if err := tx.Save(&f).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	return delay, nil
}

// success settles a reserved login whose password was right: the slots are
// given back and the failures of this account from this address are
// forgotten. The address's count stays (one valid account must not reset
// the count of an address that guesses others), and so does the account's
// count from other addresses (the owner logging in does not shorten a
// guesser's delays).
func (s *Service) success(ctx context.Context, r *reservation) error {
	r.settled = true
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		for _, k := range r.keys {
			if k.lock <= 0 {
				continue
			}
			updates := map[string]any{"pending": gorm.Expr("CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END")}
			if k.own {
				updates["failures"] = 0
			}
			if err := tx.Model(&loginFailure{}).Where("throttle_key = ?", k.key).Updates(updates).Error; err != nil {
				return fmt.Errorf("login throttle: %w", err)
			}
		}
		return nil
	})
}

// release gives back the slots of a login that was neither a failure nor a
// success (its check failed, its context ended). It runs on its own
// context, since ctx may be the one that ended.
func (s *Service) release(r *reservation) {
	if r == nil || r.settled {
		return
	}
	r.settled = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		for _, k := range r.keys {
			if k.lock <= 0 {
				continue
			}
			if err := tx.Model(&loginFailure{}).Where("throttle_key = ?", k.key).
				Update("pending", gorm.Expr("CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END")).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("login throttle: release a check slot", "err", err)
	}
}

// Unlock lifts the login throttle: of an account (any of its login names)
// from every address when ip is "", else of the account from ip and of ip
// itself (login may then be "", for the address alone). The CLI (postdesk
// unlock) and the panel's admin page call it; administrators only.
func (s *Service) Unlock(ctx context.Context, sc Scope, login, ip string) error {
	if !sc.AllDomains() {
		return ErrForbidden
	}
	if login == "" && ip == "" {
		return invalid("login", "name a login or an address")
	}
	addr := ""
	if ip != "" {
		if _, err := netip.ParseAddr(strings.Trim(ip, "[]")); err != nil {
			return invalid("ip", "not an IP address")
		}
		addr = addressKey(strings.Trim(ip, "[]"))
	}
	acct := ""
	if login != "" {
		_, _, k, err := s.findLogin(ctx, PanelLogin, login)
		if err != nil {
			return err
		}
		acct = k
	}
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		q := tx.Where("1 = 0")
		switch {
		case acct != "" && addr == "":
			// The account from everywhere: its own key and every
			// account|address key of it.
			prefix := acct + "|"
			// (substr counts characters on both engines.)
			q = tx.Where("throttle_key = ? OR substr(throttle_key, 1, ?) = ?", acct, utf8.RuneCountInString(prefix), prefix)
		case acct != "":
			q = tx.Where("throttle_key IN ?", []string{acct + "|" + addr, addr})
		default:
			q = tx.Where("throttle_key = ?", addr)
		}
		if err := q.Delete(&loginFailure{}).Error; err != nil {
			return err
		}
		return s.audit(tx, sc, nil, "login.unlock", "%s", strings.TrimSpace(login+" "+ip))
	})
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}
