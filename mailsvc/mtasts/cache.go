package mtasts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/dnsres"
)

// policyRow is a cached policy (migration 0073).
type policyRow struct {
	Domain    string `gorm:"primaryKey"`
	PolicyID  string
	Mode      string
	MX        string `gorm:"column:mx"` // patterns, one a line
	MaxAge    int64  // seconds
	FetchedAt time.Time
	ExpiresAt time.Time
}

func (policyRow) TableName() string { return "mta_sts_policies" }

// Finder finds the policy that applies to mail for a domain, through the
// cache.
type Finder struct {
	DB      *database.DB
	Fetcher *Fetcher
	Now     func() time.Time
}

// Find returns the policy to apply to mail for domain, nil when there is
// none (RFC 8461 5.1): the TXT record is looked up each time; a cached,
// unexpired policy with the record's id is used as it is; another id (or
// none cached) fetches the policy, which is cached for its max_age. A
// failed lookup or fetch falls back on the cached policy while it lasts.
// problem, when not nil, is a failure to find a policy the domain
// announces, for the log and TLS reports; err is a local (database)
// error.
func (f *Finder) Find(ctx context.Context, domain string) (p *Policy, problem error, err error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	now := f.Now().UTC()
	cached, err := f.cached(ctx, domain, now)
	if err != nil {
		return nil, nil, err
	}
	txts, lerr := f.Fetcher.Resolver.LookupTXT(ctx, "_mta-sts."+domain)
	if lerr != nil {
		if dnsres.IsNotFound(lerr) {
			return cached, nil, nil
		}
		return cached, fmt.Errorf("look up the MTA-STS record of %s: %w", domain, lerr), nil
	}
	var ids []string
	for _, t := range txts {
		if id, err := ParseRecord(t); err == nil {
			ids = append(ids, id)
		} else if strings.HasPrefix(t, "v=STSv1") {
			return cached, fmt.Errorf("MTA-STS record of %s: %w", domain, err), nil
		}
	}
	switch {
	case len(ids) == 0:
		return cached, nil, nil
	case len(ids) > 1:
		// More than one record is as good as none (RFC 8461 3.1).
		return cached, fmt.Errorf("%s publishes more than one MTA-STS record", domain), nil
	}
	if cached != nil && cached.ID == ids[0] {
		return cached, nil, nil
	}
	np, ferr := f.Fetcher.Fetch(ctx, domain)
	if ferr != nil {
		return cached, ferr, nil
	}
	np.ID = ids[0]
	if err := f.store(ctx, domain, np, now); err != nil {
		return nil, nil, err
	}
	return np, nil, nil
}

func (f *Finder) cached(ctx context.Context, domain string, now time.Time) (*Policy, error) {
	var r policyRow
	err := f.DB.Read(ctx).Where("domain = ? AND expires_at > ?", domain, now).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the cached MTA-STS policy of %s: %w", domain, err)
	}
	p := &Policy{ID: r.PolicyID, Mode: r.Mode, MaxAge: time.Duration(r.MaxAge) * time.Second}
	if r.MX != "" {
		p.MX = strings.Split(r.MX, "\n")
	}
	return p, nil
}

func (f *Finder) store(ctx context.Context, domain string, p *Policy, now time.Time) error {
	r := policyRow{Domain: domain, PolicyID: p.ID, Mode: p.Mode, MX: strings.Join(p.MX, "\n"),
		MaxAge: int64(p.MaxAge / time.Second), FetchedAt: now, ExpiresAt: now.Add(p.MaxAge)}
	err := f.DB.Write(ctx, func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "domain"}}, UpdateAll: true}).Create(&r).Error
	})
	if err != nil {
		return fmt.Errorf("cache the MTA-STS policy of %s: %w", domain, err)
	}
	return nil
}
