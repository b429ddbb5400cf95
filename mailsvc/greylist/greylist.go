// Package greylist is greylisting (the practice of RFC 6647): mail from a
// client network, sender and recipient not seen before is answered with a
// temporary failure; a real mail server retries after a while and is let
// through, and that triplet is remembered, while much spamware never
// retries. Triplets live in the database, so every process sharing it
// agrees; their number is bounded.
package greylist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
)

// Options configures a Greylist; zero fields take the defaults.
type Options struct {
	// Delay is how long a new triplet waits before a retry passes;
	// default 5 minutes.
	Delay time.Duration
	// Retry is how long after its first attempt a triplet may still pass
	// by retrying; later it starts again; default 24 hours.
	Retry time.Duration
	// Keep is how long a passed triplet is remembered after it was last
	// used; default 36 days.
	Keep time.Duration
	// MaxTriplets bounds the table: past it, new triplets are not
	// greylisted (accepted, logged) rather than stored; default 100,000.
	MaxTriplets int64
	// IncludeLoopback greylists loopback clients too, for tests; they
	// are otherwise never greylisted (the host's own programs).
	IncludeLoopback bool
	Logger          *slog.Logger
	Now             func() time.Time
}

// Greylist decides whether a triplet passes.
type Greylist struct {
	db   *database.DB
	opts Options
	log  *slog.Logger
}

type row struct {
	ID        int64 `gorm:"primaryKey"`
	Network   string
	Sender    string
	Rcpt      string
	FirstSeen time.Time
	Passed    bool
	UpdatedAt time.Time
}

func (row) TableName() string { return "greylist" }

// New returns a Greylist on db.
func New(db *database.DB, opts Options) *Greylist {
	if opts.Delay <= 0 {
		opts.Delay = 5 * time.Minute
	}
	if opts.Retry <= 0 {
		opts.Retry = 24 * time.Hour
	}
	if opts.Keep <= 0 {
		opts.Keep = 36 * 24 * time.Hour
	}
	if opts.MaxTriplets <= 0 {
		opts.MaxTriplets = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Greylist{db: db, opts: opts, log: opts.Logger}
}

// Network is the client network of a triplet: the /24 of an IPv4
// address, the /64 of an IPv6 one (a sending farm retries from another
// address of its network).
func Network(ip netip.Addr) string {
	ip = ip.Unmap()
	bits := 24
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

// Check reports whether mail from ip with envelope sender from ("" for
// the null sender) to rcpt passes now; false means answer 451 and let the
// sender retry.
func (g *Greylist) Check(ctx context.Context, ip netip.Addr, from, rcpt string) (bool, error) {
	if ip.IsLoopback() && !g.opts.IncludeLoopback {
		return true, nil
	}
	now := g.opts.Now().UTC()
	k := row{Network: Network(ip), Sender: strings.ToLower(from), Rcpt: strings.ToLower(rcpt)}
	if k.Sender == "" {
		k.Sender = "<>"
	}
	pass := false
	err := g.db.Write(ctx, func(tx *gorm.DB) error {
		var r row
		err := tx.Where("network = ? AND sender = ? AND rcpt = ?", k.Network, k.Sender, k.Rcpt).Take(&r).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return g.insert(tx, k, now, &pass)
		case err != nil:
			return fmt.Errorf("read greylist: %w", err)
		}
		switch {
		case r.Passed && now.Sub(r.UpdatedAt) <= g.opts.Keep:
			pass = true
			if now.Sub(r.UpdatedAt) < time.Hour {
				return nil // touched lately: spare the write
			}
			return tx.Model(&row{}).Where("id = ?", r.ID).Update("updated_at", now).Error
		case !r.Passed && now.Sub(r.FirstSeen) >= g.opts.Delay && now.Sub(r.FirstSeen) <= g.opts.Retry:
			pass = true
			return tx.Model(&row{}).Where("id = ?", r.ID).Updates(map[string]any{"passed": true, "updated_at": now}).Error
		case !r.Passed && now.Sub(r.FirstSeen) < g.opts.Delay:
			return nil
		}
		// Forgotten (passed long ago) or retried too late: start again.
		return tx.Model(&row{}).Where("id = ?", r.ID).Updates(map[string]any{"passed": false, "first_seen": now, "updated_at": now}).Error
	})
	if err != nil {
		return false, fmt.Errorf("greylist: %w", err)
	}
	return pass, nil
}

// insert stores a new triplet, after removing the expired ones; a full
// table lets the triplet pass unstored (greylisting is a filter, never a
// reason to lose mail or grow without bound).
func (g *Greylist) insert(tx *gorm.DB, k row, now time.Time, pass *bool) error {
	if err := tx.Where("(passed AND updated_at < ?) OR (NOT passed AND first_seen < ?)", now.Add(-g.opts.Keep), now.Add(-g.opts.Retry)).
		Delete(&row{}).Error; err != nil {
		return fmt.Errorf("remove expired triplets: %w", err)
	}
	var n int64
	if err := tx.Model(&row{}).Count(&n).Error; err != nil {
		return fmt.Errorf("count triplets: %w", err)
	}
	if n >= g.opts.MaxTriplets {
		g.log.Warn("greylist full: a new triplet passes unstored", "triplets", n, "network", k.Network)
		*pass = true
		return nil
	}
	k.FirstSeen, k.UpdatedAt = now, now
	// Two processes may see the same new triplet at once: one row wins.
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&k).Error; err != nil {
		return fmt.Errorf("store triplet: %w", err)
	}
	return nil
}
