package tenants

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// Retention is how many days a folder keeps messages (0: for ever).
type Retention struct {
	Folder string
	Days   int64
}

// MaxRetentionDays bounds a rule (100 years).
const MaxRetentionDays = 36500

// maxRetentionRules bounds the rules of a domain or a mailbox.
const maxRetentionRules = 50

type retentionRow struct {
	ID        int64
	DomainID  int64
	MailboxID int64 // 0: the domain's default
	Folder    string
	Days      int64
}

func (retentionRow) TableName() string { return "retention_rules" }

// ParseRetention reads rules written one a line as "Folder days" (the
// folder name may hold spaces; the days are the last word), as the pages
// take them.
func ParseRetention(text string) ([]Retention, error) {
	var out []Retention
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.LastIndexAny(line, " \t")
		if i < 0 {
			return nil, invalid("retention", "write a folder and a number of days, such as \"Trash 30\"")
		}
		days, err := strconv.ParseInt(line[i+1:], 10, 64)
		if err != nil {
			return nil, invalid("retention", "%q: the days are not a number", line)
		}
		out = append(out, Retention{Folder: strings.TrimSpace(line[:i]), Days: days})
	}
	return out, nil
}

// FormatRetention writes rules as ParseRetention reads them.
func FormatRetention(rs []Retention) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %d\n", r.Folder, r.Days)
	}
	return b.String()
}

func checkRetention(rs []Retention) error {
	if len(rs) > maxRetentionRules {
		return invalid("retention", "at most %d folders", maxRetentionRules)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if err := checkText("retention", r.Folder, 200); err != nil {
			return err
		}
		if r.Folder == "" {
			return invalid("retention", "name the folder")
		}
		if r.Days < 0 || r.Days > MaxRetentionDays {
			return invalid("retention", "%s: between 0 (keep) and %d days", r.Folder, MaxRetentionDays)
		}
		k := strings.ToLower(r.Folder)
		if seen[k] {
			return invalid("retention", "%s is named twice", r.Folder)
		}
		seen[k] = true
	}
	return nil
}

func (s *Service) retentionTx(db *gorm.DB, domainID, mailboxID int64) ([]Retention, error) {
	var rows []retentionRow
	if err := db.Where("domain_id = ? AND mailbox_id = ?", domainID, mailboxID).Order("folder").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read retention: %w", err)
	}
	out := make([]Retention, len(rows))
	for i, r := range rows {
		out[i] = Retention{Folder: r.Folder, Days: r.Days}
	}
	return out, nil
}

func (s *Service) setRetentionTx(tx *gorm.DB, domainID, mailboxID int64, rs []Retention) error {
	if err := tx.Where("domain_id = ? AND mailbox_id = ?", domainID, mailboxID).Delete(&retentionRow{}).Error; err != nil {
		return fmt.Errorf("clear retention: %w", err)
	}
	for _, r := range rs {
		if err := tx.Create(&retentionRow{DomainID: domainID, MailboxID: mailboxID, Folder: r.Folder, Days: r.Days}).Error; err != nil {
			return fmt.Errorf("store retention: %w", err)
		}
	}
	return nil
}

// DomainRetention returns the domain's default retention per folder.
func (s *Service) DomainRetention(ctx context.Context, sc Scope, name address.Domain) ([]Retention, error) {
	db := s.db.Read(ctx)
	d, err := s.domainTx(db, sc, name)
	if err != nil {
		return nil, err
	}
	return s.retentionTx(db, d.ID, 0)
}

// SetDomainRetention replaces the domain's defaults (its postmaster or an
// administrator).
func (s *Service) SetDomainRetention(ctx context.Context, sc Scope, name address.Domain, rs []Retention) error {
	if err := checkRetention(rs); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, name)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		if err := s.setRetentionTx(tx, d.ID, 0, rs); err != nil {
			return err
		}
		return s.audit(tx, sc, &d.ID, "domain.retention", "%s: %s", d.Name, strings.TrimSpace(strings.ReplaceAll(FormatRetention(rs), "\n", ", ")))
	})
}

// MailboxRetention returns the mailbox's own rules, its domain's defaults
// and whether its user may change their own.
func (s *Service) MailboxRetention(ctx context.Context, sc Scope, a address.Address) (own, defaults []Retention, userMay bool, err error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return nil, nil, false, err
	}
	if own, err = s.retentionTx(db, m.DomainID, m.ID); err != nil {
		return nil, nil, false, err
	}
	if defaults, err = s.retentionTx(db, m.DomainID, 0); err != nil {
		return nil, nil, false, err
	}
	var d Domain
	if err := db.Select("users_set_retention").Take(&d, m.DomainID).Error; err != nil {
		return nil, nil, false, fmt.Errorf("look up domain: %w", err)
	}
	return own, defaults, d.UsersSetRetention, nil
}

// SetMailboxRetention replaces the mailbox's own rules: a user only when
// the domain lets its users (Mailtraq's "Change Mailbox Auto-Expiry").
func (s *Service) SetMailboxRetention(ctx context.Context, sc Scope, a address.Address, rs []Retention) error {
	if err := checkRetention(rs); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		if sc.Role == RoleUser {
			var d Domain
			if err := tx.Select("users_set_retention").Take(&d, m.DomainID).Error; err != nil {
				return fmt.Errorf("look up domain: %w", err)
			}
			if !d.UsersSetRetention {
				return ErrForbidden
			}
		}
		if err := s.setRetentionTx(tx, m.DomainID, m.ID, rs); err != nil {
			return err
		}
		return s.audit(tx, sc, &m.DomainID, "mailbox.retention", "%s: %s", a, strings.TrimSpace(strings.ReplaceAll(FormatRetention(rs), "\n", ", ")))
	})
}

// FolderRetention is one folder of one mailbox that keeps messages Days
// days.
type FolderRetention struct {
	MailboxID int64
	Folder    string
	Days      int64
}

// RetentionPlan returns the folders with a retention, for the mailboxes
// with ids above after, at most limit mailboxes, ordered by mailbox: each
// mailbox's own rule for a folder wins over its domain's default (a 0 in
// either keeps the folder's messages). next is the last mailbox id seen
// (0: no more). A system-scope entry point, for the expiry job.
func (s *Service) RetentionPlan(ctx context.Context, after int64, limit int) (plan []FolderRetention, next int64, err error) {
	db := s.db.Read(ctx)
	var defaults []retentionRow
	if err := db.Where("mailbox_id = 0").Find(&defaults).Error; err != nil {
		return nil, 0, fmt.Errorf("read retention: %w", err)
	}
	byDomain := map[int64][]retentionRow{}
	var domainIDs []int64
	for _, r := range defaults {
		if byDomain[r.DomainID] == nil {
			domainIDs = append(domainIDs, r.DomainID)
		}
		byDomain[r.DomainID] = append(byDomain[r.DomainID], r)
	}
	// The mailboxes that have a rule: those of a domain with defaults,
	// and those with their own.
	q := db.Model(&Mailbox{}).Where("id > ?", after)
	if len(domainIDs) > 0 {
		q = q.Where("domain_id IN ? OR id IN (SELECT mailbox_id FROM retention_rules WHERE mailbox_id > 0)", domainIDs)
	} else {
		q = q.Where("id IN (SELECT mailbox_id FROM retention_rules WHERE mailbox_id > 0)")
	}
	var ms []Mailbox
	if err := q.Select("id, domain_id").Order("id").Limit(limit).Find(&ms).Error; err != nil {
		return nil, 0, fmt.Errorf("list mailboxes with retention: %w", err)
	}
	if len(ms) == 0 {
		return nil, 0, nil
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	var owns []retentionRow
	if err := db.Where("mailbox_id IN ?", ids).Find(&owns).Error; err != nil {
		return nil, 0, fmt.Errorf("read retention: %w", err)
	}
	own := map[int64]map[string]int64{}
	for _, r := range owns {
		if own[r.MailboxID] == nil {
			own[r.MailboxID] = map[string]int64{}
		}
		own[r.MailboxID][r.Folder] = r.Days
	}
	for _, m := range ms {
		days := map[string]int64{}
		for _, r := range byDomain[m.DomainID] {
			days[r.Folder] = r.Days
		}
		for f, d := range own[m.ID] {
			days[f] = d
		}
		folders := make([]string, 0, len(days))
		for f := range days {
			folders = append(folders, f)
		}
		sort.Strings(folders)
		for _, f := range folders {
			if days[f] > 0 {
				plan = append(plan, FolderRetention{MailboxID: m.ID, Folder: f, Days: days[f]})
			}
		}
	}
	if len(ms) == limit {
		next = ms[len(ms)-1].ID
	}
	return plan, next, nil
}
