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

// locked reports whether any of the keys is locked now.
func (s *Service) locked(ctx context.Context, keys ...string) (bool, error) {
	var n int64
	err := s.db.Read(ctx).Model(&loginFailure{}).
		Where("throttle_key IN ? AND locked_until IS NOT NULL AND locked_until > ?", keys, s.clock()).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("read login throttle: %w", err)
	}
	return n > 0, nil
}

// recordFailure counts a failure against the account and the address and
// returns the delay to wait before answering.
func (s *Service) recordFailure(ctx context.Context, account, addr string) (time.Duration, error) {
	now := s.clock()
	var delay time.Duration
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		for _, k := range []struct {
			key  string
			lock int64
		}{{account, s.throttle.AccountLockAfter}, {addr, s.throttle.AddressLockAfter}} {
			if k.key == "" {
				continue
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
				Create(&loginFailure{ThrottleKey: k.key, LastAt: now}).Error; err != nil {
				return err
			}
			var f loginFailure
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("throttle_key = ?", k.key).Take(&f).Error; err != nil {
				return err
			}
			if now.Sub(f.LastAt) > s.throttle.Window {
				f.Failures = 0
			}
			f.Failures++
			f.LastAt = now
			if k.lock > 0 && f.Failures >= k.lock {
				f.LockedUntil = ptr(now.Add(s.throttle.LockFor))
				f.Failures = 0
			}
			if err := tx.Save(&f).Error; err != nil {
				return err
			}
			delay = max(delay, s.throttle.delay(f.Failures))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record login failure: %w", err)
	}
	return delay, nil
}

// clearFailures forgets an account's failures after a good login. The
// address's count stays, so that one valid account can't reset the count
// of an address that guesses others.
func (s *Service) clearFailures(ctx context.Context, account string) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		return tx.Where("throttle_key = ? AND (locked_until IS NULL OR locked_until <= ?)", account, s.clock()).Delete(&loginFailure{}).Error
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
