package tenants

import (
	"fmt"
	"math"

	"gorm.io/gorm"
)

// domainQuota is the quota of a mailbox of d that has none of its own: the
// domain's default, else the per-mailbox maximum (0: unlimited).
func domainQuota(d *Domain) int64 {
	if d.DefaultQuota > 0 {
		return d.DefaultQuota
	}
	return d.MaxMailboxQuota
}

// grantCap is the largest quota a postmaster may give one mailbox of d: the
// per-mailbox maximum the administrator set, else the domain's default
// quota (0: no bound).
func grantCap(d *Domain) int64 {
	if d.MaxMailboxQuota > 0 {
		return d.MaxMailboxQuota
	}
	return d.DefaultQuota
}

// checkGrantTx is the one check of a quota a postmaster gives: quota (0:
// the domain's) for mailbox mailboxID of domain domainID (0: a new mailbox)
// must stay within the per-mailbox maximum and, with the other mailboxes'
// quotas, within the domain's storage total. Administrators and the CLI
// may set anything. The domain row is locked, so that two postmasters
// granting at once are checked one after the other. Its refusals are
// ValidationErrors on "quota_bytes".
func (s *Service) checkGrantTx(tx *gorm.DB, sc Scope, domainID, mailboxID, quota int64) error {
	if sc.AllDomains() {
		return nil
	}
	if err := lockDomain(tx, domainID); err != nil {
		return err
	}
	var d Domain
	if err := tx.Take(&d, domainID).Error; err != nil {
		return fmt.Errorf("read domain: %w", err)
	}
	limit := grantCap(&d)
	if quota > 0 && limit > 0 && quota > limit {
		return invalid("quota_bytes", "at most %s per mailbox in this domain", FormatSize(limit))
	}
	if d.StorageTotal <= 0 {
		return nil
	}
	own := quota
	if own == 0 {
		own = domainQuota(&d)
	}
	if own == 0 {
		return invalid("quota_bytes", "this domain has a storage total of %s: give the mailbox a quota", FormatSize(d.StorageTotal))
	}
	if mailboxID != 0 {
		// A change that gives the mailbox no more than it has passes,
		// so that a domain over its total (the administrator lowered
		// it) can be brought back within it.
		var m Mailbox
		if err := tx.Select("quota_bytes").Take(&m, mailboxID).Error; err != nil {
			return fmt.Errorf("read mailbox: %w", err)
		}
		if cur := EffectiveQuota(&m, &d); cur > 0 && own <= cur {
			return nil
		}
	}
	// The other mailboxes: their own quotas, and the domain's for those
	// without one (unlimited, when the domain has none, counts as over).
	var sum struct {
		Own      int64
		Defaults int64
	}
	err := tx.Model(&Mailbox{}).Where("domain_id = ? AND id <> ?", d.ID, mailboxID).
		Select("COALESCE(SUM(CASE WHEN quota_bytes > 0 THEN quota_bytes ELSE 0 END), 0) AS own, " +
			"COALESCE(SUM(CASE WHEN quota_bytes > 0 THEN 0 ELSE 1 END), 0) AS defaults").Scan(&sum).Error
	if err != nil {
		return fmt.Errorf("sum quotas: %w", err)
	}
	if sum.Defaults > 0 && domainQuota(&d) == 0 {
		return invalid("quota_bytes", "this domain's mailboxes without a quota are unlimited, past its storage total of %s", FormatSize(d.StorageTotal))
	}
	granted := addCapped(sum.Own, mulCapped(sum.Defaults, domainQuota(&d)))
	if addCapped(granted, own) > d.StorageTotal {
		return invalid("quota_bytes", "the domain's storage total is %s, of which %s is given to other mailboxes", FormatSize(d.StorageTotal), FormatSize(granted))
	}
	return nil
}

// addCapped and mulCapped add and multiply non-negative sizes, stopping at
// math.MaxInt64 rather than wrapping (an administrator may set huge quotas).
func addCapped(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulCapped(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
