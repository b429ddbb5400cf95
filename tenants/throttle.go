package tenants

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ThrottleConfig is the login throttle every protocol and the panel share
// (Mailtraq's dictionary attack prevention): after FreeFailures failures a
// login failure is answered only after a delay that doubles up to MaxDelay;
// an account is locked for LockFor after AccountLockAfter failures, a remote
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
// after 10 failures and an address after 50, for 15 minutes; failures
// forgotten after an hour.
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
// failures that locks it.
type throttleKey struct {
	key  string
	lock int64
}

func (s *Service) throttleKeys(account, addr string) []throttleKey {
	ks := []throttleKey{{account, s.throttle.AccountLockAfter}}
	if addr != "" {
		ks = append(ks, throttleKey{addr, s.throttle.AddressLockAfter})
	}
	return ks
}

// reserve charges a login attempt to its account and address before the
// password is checked, in one transaction, so that attempts made in
// parallel are counted one after the other: an attempt whose number passes
// a lock threshold is refused as Locked without being checked (a burst of
// guesses can't all slip under the lock). It returns the failure counts
// including this attempt.
func (s *Service) reserve(ctx context.Context, keys []throttleKey) (counts []int64, locked bool, err error) {
	now := s.clock()
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		counts, locked = make([]int64, len(keys)), false
		rows := make([]loginFailure, len(keys))
		for i, k := range keys {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
				Create(&loginFailure{ThrottleKey: k.key, LastAt: now}).Error; err != nil {
				return err
			}
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("throttle_key = ?", k.key).Take(&rows[i]).Error; err != nil {
				return err
			}
			if rows[i].LockedUntil != nil && rows[i].LockedUntil.After(now) {
				locked = true
			}
		}
		if locked {
			return nil
		}
		for i, k := range keys {
			f := &rows[i]
			if now.Sub(f.LastAt) > s.throttle.Window {
				f.Failures = 0
			}
			f.Failures++
			f.LastAt = now
			counts[i] = f.Failures
			if k.lock > 0 && f.Failures > k.lock {
				f.LockedUntil = ptr(now.Add(s.throttle.LockFor))
				f.Failures = 0
				locked = true
			}
		}
		for i := range rows {
			if err := tx.Save(&rows[i]).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("login throttle: %w", err)
	}
	return counts, locked, nil
}

// settleFailure locks the keys whose count reached their threshold and
// returns the delay to wait before answering.
func (s *Service) settleFailure(ctx context.Context, keys []throttleKey, counts []int64) (time.Duration, error) {
	now := s.clock()
	var delay time.Duration
	for i, k := range keys {
		delay = max(delay, s.throttle.delay(counts[i]))
		if k.lock <= 0 || counts[i] < k.lock {
			continue
		}
		err := s.db.Write(ctx, func(tx *gorm.DB) error {
			return tx.Model(&loginFailure{}).Where("throttle_key = ?", k.key).
				Updates(map[string]any{"locked_until": now.Add(s.throttle.LockFor), "failures": 0}).Error
		})
		if err != nil {
			return 0, fmt.Errorf("lock %s: %w", k.key, err)
		}
	}
	return delay, nil
}

// settleSuccess takes back what reserve charged for a good login: the
// account's failures are forgotten, the address's count drops by this one
// attempt only, so that one valid account can't reset the count of an
// address that guesses others. Rows are updated, never deleted, so a
// parallel reserve always finds its row.
func (s *Service) settleSuccess(ctx context.Context, keys []throttleKey) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		for i, k := range keys {
			expr := gorm.Expr("CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END")
			if i == 0 {
				expr = gorm.Expr("0")
			}
			if err := tx.Model(&loginFailure{}).Where("throttle_key = ?", k.key).Update("failures", expr).Error; err != nil {
				return fmt.Errorf("login throttle: %w", err)
			}
		}
		return nil
	})
}

// Unlock clears the throttle of an account (any of its login names) or of a
// remote address.
func (s *Service) Unlock(ctx context.Context, sc Scope, accountOrAddress string) error {
	if !sc.AllDomains() {
		return ErrForbidden
	}
	_, _, acct, err := s.findLogin(ctx, accountOrAddress)
	if err != nil {
		return err
	}
	keys := []string{acct}
	if k := addressKey(accountOrAddress); k != "" {
		keys = append(keys, k)
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		return tx.Where("throttle_key IN ?", keys).Delete(&loginFailure{}).Error
	})
}
