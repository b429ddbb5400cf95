package msgauth

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/tenants"
)

// PendingKeys are the DKIM pairs waiting for DNS: *tenants.Service.
type PendingKeys interface {
	PendingDKIMKeys(ctx context.Context) ([]tenants.PendingDKIM, error)
	ActivateDKIMKeys(ctx context.Context, domainID int64) error
}

// Rotator switches a domain's signing to its new DKIM pair once DNS shows
// both records (`postdesk dkim rotate`): a receiver that looks a selector
// up before its record is published would fail the signature.
type Rotator struct {
	keys     PendingKeys
	res      *dnsres.Resolver
	log      *slog.Logger
	interval time.Duration
}

// NewRotator returns a Rotator checking every interval (zero: a minute).
func NewRotator(keys PendingKeys, res *dnsres.Resolver, log *slog.Logger, interval time.Duration) *Rotator {
	if interval <= 0 {
		interval = time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Rotator{keys: keys, res: res, log: log, interval: interval}
}

// Run checks until ctx ends.
func (r *Rotator) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		if _, err := r.Check(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("DKIM rotation check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check looks up the records of every pending pair once and activates the
// pairs whose records DNS shows; it returns the domains switched.
func (r *Rotator) Check(ctx context.Context) ([]string, error) {
	pending, err := r.keys.PendingDKIMKeys(ctx)
	if err != nil {
		return nil, err
	}
	var switched []string
	for _, p := range pending {
		if !r.published(ctx, p.Records) {
			continue
		}
		if err := r.keys.ActivateDKIMKeys(ctx, p.DomainID); err != nil {
			return switched, err
		}
		r.log.Info("new DKIM keys found in DNS; signing with them", "domain", p.Domain)
		switched = append(switched, p.Domain)
	}
	return switched, nil
}

// published reports whether DNS answers each record with its value (white
// space aside, as RFC 6376 3.6.1's tag lists allow).
func (r *Rotator) published(ctx context.Context, recs []tenants.DKIMRecord) bool {
	for _, rec := range recs {
		txts, err := r.res.LookupTXT(ctx, strings.TrimSuffix(rec.Name, "."))
		if err != nil {
			return false
		}
		found := false
		for _, t := range txts {
			if squeeze(t) == squeeze(rec.Value) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }
