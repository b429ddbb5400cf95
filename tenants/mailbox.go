package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/auth"
)

// MailboxSettings are the settings a new mailbox takes, and what a CSV
// import's template mailbox hands on.
type MailboxSettings struct {
	QuotaBytes         int64
	Active             bool
	StoreMail          bool
	MaySend            bool
	MayResponder       bool
	MayForward         bool
	Webmail            bool
	Postmaster         bool
	ExpiresAt          *time.Time
	ExpireInactiveDays int64
	ExpireAfterDays    int64
}

// DefaultMailboxSettings: may send, webmail, own responder and forwards;
// not a postmaster; no expiry; the domain's default quota.
func DefaultMailboxSettings() MailboxSettings {
	return MailboxSettings{Active: true, StoreMail: true, MaySend: true, MayResponder: true, MayForward: true, Webmail: true}
}

// SettingsOf returns a mailbox's settings, to use it as a template.
func SettingsOf(m *Mailbox) MailboxSettings {
	return MailboxSettings{
		QuotaBytes: m.QuotaBytes, Active: m.Active, StoreMail: m.StoreMail, MaySend: m.MaySend,
		MayResponder: m.MayResponder, MayForward: m.MayForward, Webmail: m.Webmail, Postmaster: m.Postmaster,
		ExpiresAt: m.ExpiresAt, ExpireInactiveDays: m.ExpireInactiveDays, ExpireAfterDays: m.ExpireAfterDays,
	}
}

// NewMailbox describes a mailbox to create.
type NewMailbox struct {
	Address address.Address
	// Password is checked for strength and hashed; or PasswordHash is an
	// existing hash imported from another server.
	Password     string
	PasswordHash string
	FullName     string
	Settings     MailboxSettings
	// Aliases are created with the mailbox, in the same transaction.
	Aliases []address.Localpart
}

// MailboxUpdate holds the mailbox fields to change; nil fields stay.
type MailboxUpdate struct {
	FullName           *string
	Password           *string
	PasswordHash       *string
	QuotaBytes         *int64
	Active             *bool
	StoreMail          *bool
	MaySend            *bool
	MayResponder       *bool
	MayForward         *bool
	Webmail            *bool
	Postmaster         *bool
	InDirectory        *bool
	MayEditGAB         *bool
	ExpiresAt          *time.Time
	ClearExpiry        bool
	ExpireInactiveDays *int64
	ExpireAfterDays    *int64
	SignInOff          *bool
}

// MailboxInfo is a mailbox with its address and domain, for display.
type MailboxInfo struct {
	Mailbox
	Domain  string
	Address string
	Aliases int64
	// The domain's quota settings, for EffectiveQuota.
	DomainDefaultQuota    int64
	DomainMaxMailboxQuota int64
}

// EffectiveQuota is the quota the mailbox has (0: unlimited) and whether
// it is the domain's, the mailbox having none of its own.
func (m *MailboxInfo) EffectiveQuota() (bytes int64, domains bool) {
	if m.QuotaBytes > 0 {
		return m.QuotaBytes, false
	}
	return domainQuota(&Domain{DefaultQuota: m.DomainDefaultQuota, MaxMailboxQuota: m.DomainMaxMailboxQuota}), true
}

// preparedMailbox is a NewMailbox checked and hashed, ready to insert.
type preparedMailbox struct {
	in   NewMailbox
	hash string
}

// prepareMailbox checks what can be checked without the database and
// hashes the password (slow; done outside any transaction).
func (s *Service) prepareMailbox(in NewMailbox) (*preparedMailbox, error) {
	if in.Address.IsZero() {
		return nil, invalid("address", "an address is required")
	}
	if err := address.ValidMailboxName(in.Address.Local); err != nil {
		return nil, invalid("local_part", "%v", err)
	}
	for _, a := range in.Aliases {
		if err := address.ValidMailboxName(a); err != nil {
			return nil, invalid("aliases", "alias %q: %v", a, err)
		}
	}
	if err := checkText("full_name", in.FullName, 200); err != nil {
		return nil, err
	}
	if err := checkSettings(in.Settings); err != nil {
		return nil, err
	}
	if !in.Settings.StoreMail {
		return nil, invalid("store_mail", "a new mailbox has no forwards, so it must store mail; switch store mail off after setting forwards")
	}
	p := &preparedMailbox{in: in}
	var err error
	p.hash, err = s.passwordHash(in.Address, in.FullName, in.Password, in.PasswordHash)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func checkSettings(st MailboxSettings) error {
	if st.QuotaBytes < 0 {
		return invalid("quota_bytes", "must not be negative")
	}
	if st.ExpireInactiveDays < 0 {
		return invalid("expire_inactive_days", "must not be negative")
	}
	if st.ExpireAfterDays < 0 {
		return invalid("expire_after_days", "must not be negative")
	}
	return nil
}

// passwordHash turns a clear password (checked for strength) or an imported
// hash into what is stored.
func (s *Service) passwordHash(a address.Address, fullName, password, hash string) (string, error) {
	switch {
	case password != "" && hash != "":
		return "", invalid("password", "give a password or a password hash, not both")
	case hash != "":
		h, err := auth.ParseImportedHash(hash)
		if err != nil {
			return "", invalid("password_hash", "%v", err)
		}
		return h, nil
	case password == "":
		return "", invalid("password", "a password is required")
	}
	if err := auth.CheckStrength(password, string(a.Local), a.Domain.String(), fullName); err != nil {
		var w *auth.WeakPasswordError
		if errors.As(err, &w) {
			return "", invalid("password", "%s", w.Reason)
		}
		return "", invalid("password", "%v", err)
	}
	h, err := s.hasher.Hash(password)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CreateMailbox adds a mailbox (and the aliases it names) in one
// transaction.
func (s *Service) CreateMailbox(ctx context.Context, sc Scope, in NewMailbox) (*Mailbox, error) {
	p, err := s.prepareMailbox(in)
	if err != nil {
		return nil, err
	}
	var m *Mailbox
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err = s.insertMailbox(tx, sc, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) insertMailbox(tx *gorm.DB, sc Scope, p *preparedMailbox) (*Mailbox, error) {
	in := p.in
	d, err := s.domainTx(tx, sc, in.Address.Domain)
	if err != nil {
		return nil, err
	}
	if !sc.mayManageDomain(d.ID) {
		return nil, ErrForbidden
	}
	if d.AliasOfID != nil {
		return nil, invalid("address", "%s is an alias domain; add the mailbox to its primary domain", d.Name)
	}
	if in.Settings.Postmaster && !sc.AllDomains() {
		return nil, fmt.Errorf("only a system administrator names postmasters: %w", ErrForbidden)
	}
	if err := s.checkGrantTx(tx, sc, d.ID, 0, in.Settings.QuotaBytes); err != nil {
		return nil, err
	}
	if d.MaxMailboxes > 0 {
		// Lock the domain row so concurrent creators count one after
		// the other.
		if err := lockDomain(tx, d.ID); err != nil {
			return nil, err
		}
		var n int64
		if err := tx.Model(&Mailbox{}).Where("domain_id = ?", d.ID).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("count mailboxes: %w", err)
		}
		if n >= d.MaxMailboxes {
			return nil, &LimitError{What: "mailboxes", Limit: d.MaxMailboxes}
		}
	}
	now := s.clock()
	st := in.Settings
	m := &Mailbox{
		DomainID: d.ID, LocalPart: string(in.Address.Local), FullName: in.FullName, PasswordHash: p.hash,
		QuotaBytes: st.QuotaBytes, Active: st.Active, StoreMail: st.StoreMail, MaySend: st.MaySend,
		MayResponder: st.MayResponder, MayForward: st.MayForward, Webmail: st.Webmail, Postmaster: st.Postmaster,
		ExpiresAt: st.ExpiresAt, ExpireInactiveDays: st.ExpireInactiveDays, ExpireAfterDays: st.ExpireAfterDays, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.checkFree(tx, d, in.Address.Local); err != nil {
		return nil, err
	}
	if err := tx.Create(m).Error; err != nil {
		if database.IsUniqueViolation(err) {
			return nil, &ConflictError{Address: in.Address.String()}
		}
		return nil, fmt.Errorf("insert mailbox: %w", err)
	}
	if err := s.claimAddress(tx, d, in.Address.Local, m.ID, false); err != nil {
		return nil, err
	}
	for _, a := range in.Aliases {
		if err := s.addAliasTx(tx, sc, d, a, m); err != nil {
			return nil, err
		}
	}
	if err := s.audit(tx, sc, &d.ID, "mailbox.create", "%s@%s", m.LocalPart, d.Name); err != nil {
		return nil, err
	}
	return m, nil
}

// checkFree returns a ConflictError naming what holds local@d, if anything
// does: a mailbox, an alias, or a list (its address or one of its command
// addresses, tenants/list.go). The unique index on addresses still refuses a race between two
// writers; this check is there to name the holder (PostgreSQL can't query
// after a failed statement in a transaction).
func (s *Service) checkFree(tx *gorm.DB, d *Domain, local address.Localpart) error {
	var n int64
	if err := tx.Model(&addressRow{}).Where("domain_id = ? AND local_part = ?", d.ID, string(local)).Count(&n).Error; err != nil {
		return fmt.Errorf("check address: %w", err)
	}
	if n > 0 {
		return s.conflict(tx, d, local)
	}
	holder, err := s.listHolds(tx, d, local)
	if err != nil {
		return err
	}
	if holder != "" {
		return &ConflictError{Address: string(local) + "@" + d.Name, Holder: holder}
	}
	return nil
}

// claimAddress inserts the address row for local in d.
func (s *Service) claimAddress(tx *gorm.DB, d *Domain, local address.Localpart, mailboxID int64, alias bool) error {
	row := addressRow{DomainID: d.ID, LocalPart: string(local), MailboxID: mailboxID, IsAlias: alias, CreatedAt: s.clock()}
	err := tx.Create(&row).Error
	if err == nil {
		return nil
	}
	if database.IsUniqueViolation(err) {
		return &ConflictError{Address: string(local) + "@" + d.Name}
	}
	return fmt.Errorf("insert address: %w", err)
}

// conflict describes who holds local@d. Addresses are unique within a
// domain, so the holder is always in the same domain as the caller's
// target, and naming it leaks nothing across tenants.
func (s *Service) conflict(tx *gorm.DB, d *Domain, local address.Localpart) error {
	addr := string(local) + "@" + d.Name
	var row addressRow
	if err := tx.Where("domain_id = ? AND local_part = ?", d.ID, string(local)).Take(&row).Error; err != nil {
		return &ConflictError{Address: addr}
	}
	if !row.IsAlias {
		return &ConflictError{Address: addr, Holder: "a mailbox"}
	}
	var m Mailbox
	if err := tx.Take(&m, row.MailboxID).Error; err != nil {
		return &ConflictError{Address: addr, Holder: "an alias"}
	}
	return &ConflictError{Address: addr, Holder: "an alias of " + m.LocalPart + "@" + d.Name}
}

// Mailbox returns the mailbox at a (its own address, not an alias).
func (s *Service) Mailbox(ctx context.Context, sc Scope, a address.Address) (*Mailbox, error) {
	return s.mailboxTx(s.db.Read(ctx), sc, a)
}

func (s *Service) mailboxTx(tx *gorm.DB, sc Scope, a address.Address) (*Mailbox, error) {
	var m Mailbox
	err := tx.Scopes(sc.mailboxes("mailboxes.id", "mailboxes.domain_id")).
		Joins("JOIN domains ON domains.id = mailboxes.domain_id").
		Where("domains.name = ? AND mailboxes.local_part = ?", a.Domain.String(), string(a.Local)).
		Take(&m).Error
	if notFound(err) {
		return nil, fmt.Errorf("mailbox %s: %w", a, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("look up mailbox %s: %w", a, err)
	}
	return &m, nil
}

// MailboxByID returns a mailbox by its id, within the scope.
func (s *Service) MailboxByID(ctx context.Context, sc Scope, id int64) (*Mailbox, error) {
	var m Mailbox
	err := s.db.Read(ctx).Scopes(sc.mailboxes("id", "domain_id")).Where("id = ?", id).Take(&m).Error
	if notFound(err) {
		return nil, fmt.Errorf("mailbox %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("look up mailbox %d: %w", id, err)
	}
	return &m, nil
}

// mailboxByAddressTx finds the mailbox an address (mailbox or alias, alias
// domains followed) names.
func (s *Service) mailboxByAddressTx(tx *gorm.DB, sc Scope, a address.Address) (*Mailbox, error) {
	d, err := s.domainTx(tx, sc, a.Domain)
	if err != nil {
		return nil, err
	}
	if d, err = s.primaryDomain(tx, d); err != nil {
		return nil, err
	}
	var row addressRow
	err = tx.Where("domain_id = ? AND local_part = ?", d.ID, string(a.Local)).Take(&row).Error
	if notFound(err) {
		return nil, fmt.Errorf("address %s: %w", a, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("look up address %s: %w", a, err)
	}
	var m Mailbox
	if err := tx.Take(&m, row.MailboxID).Error; err != nil {
		return nil, fmt.Errorf("look up mailbox of %s: %w", a, err)
	}
	return &m, nil
}

// MailboxQuery filters, sorts and pages a mailbox list.
type MailboxQuery struct {
	Domain address.Domain // empty: every domain the scope reaches
	Search string         // in local part and full name
	Sort   string         // "address" (default), "name", "created", "last_login"
	Desc   bool
	Limit  int
	Offset int
}

// Mailboxes lists mailboxes with the total count for paging.
func (s *Service) Mailboxes(ctx context.Context, sc Scope, q MailboxQuery) ([]MailboxInfo, int64, error) {
	db := s.db.Read(ctx).Model(&Mailbox{}).Scopes(sc.mailboxes("mailboxes.id", "mailboxes.domain_id")).
		Joins("JOIN domains ON domains.id = mailboxes.domain_id")
	if q.Domain != "" {
		d, err := s.Domain(ctx, sc, q.Domain)
		if err != nil {
			return nil, 0, err
		}
		db = db.Where("mailboxes.domain_id = ?", d.ID)
	}
	if q.Search != "" {
		pat := database.Contains(q.Search)
		db = db.Where("(mailboxes.local_part LIKE ? ESCAPE '\\' OR LOWER(mailboxes.full_name) LIKE ? ESCAPE '\\' OR domains.name LIKE ? ESCAPE '\\')", pat, pat, pat)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count mailboxes: %w", err)
	}
	order := map[string]string{
		"": "domains.name, mailboxes.local_part", "address": "domains.name, mailboxes.local_part",
		"name": "mailboxes.full_name", "created": "mailboxes.created_at", "last_login": "mailboxes.last_login_at",
	}[q.Sort]
	if order == "" {
		return nil, 0, invalid("sort", "unknown sort %q", q.Sort)
	}
	if q.Desc {
		order = strings.ReplaceAll(order, ",", " DESC,") + " DESC"
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	var rows []MailboxInfo
	err := db.Select(`mailboxes.*, domains.name AS domain, mailboxes.local_part || '@' || domains.name AS address,
		domains.default_quota AS domain_default_quota, domains.max_mailbox_quota AS domain_max_mailbox_quota,
		(SELECT COUNT(*) FROM addresses a WHERE a.mailbox_id = mailboxes.id AND a.is_alias) AS aliases`).
		Order(order + ", mailboxes.id").Limit(q.Limit).Offset(q.Offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list mailboxes: %w", err)
	}
	return rows, total, nil
}

// UpdateMailbox changes a mailbox. A user may change only their password;
// only a system administrator names postmasters.
func (s *Service) UpdateMailbox(ctx context.Context, sc Scope, a address.Address, u MailboxUpdate) (*Mailbox, error) {
	if sc.Role == RoleUser && (u.FullName != nil || u.QuotaBytes != nil || u.Active != nil || u.StoreMail != nil ||
		u.MaySend != nil || u.MayResponder != nil || u.MayForward != nil || u.Webmail != nil || u.Postmaster != nil || u.InDirectory != nil || u.MayEditGAB != nil ||
		u.ExpiresAt != nil || u.ClearExpiry || u.ExpireInactiveDays != nil || u.ExpireAfterDays != nil || u.SignInOff != nil || u.PasswordHash != nil) {
		return nil, ErrForbidden
	}
	if u.Postmaster != nil && !sc.AllDomains() {
		return nil, fmt.Errorf("only a system administrator names postmasters: %w", ErrForbidden)
	}
	if u.FullName != nil {
		if err := checkText("full_name", *u.FullName, 200); err != nil {
			return nil, err
		}
	}
	if u.QuotaBytes != nil && *u.QuotaBytes < 0 {
		return nil, invalid("quota_bytes", "must not be negative")
	}
	if u.ExpireInactiveDays != nil && *u.ExpireInactiveDays < 0 {
		return nil, invalid("expire_inactive_days", "must not be negative")
	}
	if u.ExpireAfterDays != nil && *u.ExpireAfterDays < 0 {
		return nil, invalid("expire_after_days", "must not be negative")
	}
	var hash string
	if u.Password != nil || u.PasswordHash != nil {
		fullName := ""
		if u.FullName != nil {
			fullName = *u.FullName
		}
		var err error
		hash, err = s.passwordHash(a, fullName, deref(u.Password), deref(u.PasswordHash))
		if err != nil {
			return nil, err
		}
	}
	var m *Mailbox
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var err error
		m, err = s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		if sc.Role == RoleUser && hash != "" {
			if err := s.userMayChangePassword(tx, m.DomainID); err != nil {
				return err
			}
		}
		var changes []string
		set := func(name string, dst *bool, v *bool) {
			if v != nil {
				*dst = *v
				changes = append(changes, fmt.Sprintf("%s=%t", name, *v))
			}
		}
		if u.FullName != nil {
			m.FullName = *u.FullName
			changes = append(changes, "full_name")
		}
		if hash != "" {
			m.PasswordHash = hash
			changes = append(changes, "password")
		}
		if u.QuotaBytes != nil {
			if err := s.checkGrantTx(tx, sc, m.DomainID, m.ID, *u.QuotaBytes); err != nil {
				return err
			}
			m.QuotaBytes = *u.QuotaBytes
			changes = append(changes, fmt.Sprintf("quota=%d", m.QuotaBytes))
		}
		set("active", &m.Active, u.Active)
		set("store_mail", &m.StoreMail, u.StoreMail)
		set("may_send", &m.MaySend, u.MaySend)
		set("may_responder", &m.MayResponder, u.MayResponder)
		set("may_forward", &m.MayForward, u.MayForward)
		set("webmail", &m.Webmail, u.Webmail)
		set("postmaster", &m.Postmaster, u.Postmaster)
		set("in_directory", &m.InDirectory, u.InDirectory)
		set("may_edit_gab", &m.MayEditGAB, u.MayEditGAB)
		set("sign_in_off", &m.SignInOff, u.SignInOff)
		if u.ClearExpiry {
			m.ExpiresAt = nil
			changes = append(changes, "expires=never")
		}
		if u.ExpiresAt != nil {
			m.ExpiresAt = ptr(u.ExpiresAt.UTC())
			changes = append(changes, "expires="+u.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if u.ExpireInactiveDays != nil {
			m.ExpireInactiveDays = *u.ExpireInactiveDays
			changes = append(changes, fmt.Sprintf("expire_inactive_days=%d", m.ExpireInactiveDays))
		}
		if u.ExpireAfterDays != nil {
			m.ExpireAfterDays = *u.ExpireAfterDays
			changes = append(changes, fmt.Sprintf("expire_after_days=%d", m.ExpireAfterDays))
		}
		if !m.StoreMail {
			var n int64
			if err := tx.Model(&forwardRow{}).Where("mailbox_id = ?", m.ID).Count(&n).Error; err != nil {
				return fmt.Errorf("count forwards: %w", err)
			}
			if n == 0 {
				return invalid("store_mail", "a mailbox without forwards must store mail, or accepted mail would vanish")
			}
		}
		m.UpdatedAt = s.clock()
		if err := tx.Save(m).Error; err != nil {
			return fmt.Errorf("update mailbox: %w", err)
		}
		if hash != "" {
			// A new password or imported hash ends every panel session
			// signed in with the old one.
			if err := tx.Exec("UPDATE mailboxes SET credentials_version = credentials_version + 1 WHERE id = ?", m.ID).Error; err != nil {
				return fmt.Errorf("move credentials version: %w", err)
			}
			if err := tx.Raw("SELECT credentials_version FROM mailboxes WHERE id = ?", m.ID).Scan(&m.CredentialsVersion).Error; err != nil {
				return fmt.Errorf("read credentials version: %w", err)
			}
		}
		return s.audit(tx, sc, &m.DomainID, "mailbox.update", "%s: %s", a, strings.Join(changes, ", "))
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteMailbox removes a mailbox with its aliases, forwards and responder.
// The messages it stored are the message store's to remove.
func (s *Service) DeleteMailbox(ctx context.Context, sc Scope, a address.Address) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		if err := tx.Model(&Domain{}).Where("postmaster_mailbox_id = ?", m.ID).Update("postmaster_mailbox_id", nil).Error; err != nil {
			return fmt.Errorf("clear postmaster: %w", err)
		}
		if err := tx.Delete(&Mailbox{}, m.ID).Error; err != nil {
			return fmt.Errorf("delete mailbox: %w", err)
		}
		return s.audit(tx, sc, &m.DomainID, "mailbox.delete", "%s", a)
	})
}

// MailboxAddress returns a mailbox's own address.
func (s *Service) MailboxAddress(ctx context.Context, m *Mailbox) (address.Address, error) {
	var d Domain
	if err := s.db.Read(ctx).Take(&d, m.DomainID).Error; err != nil {
		return address.Address{}, fmt.Errorf("look up domain of mailbox %d: %w", m.ID, err)
	}
	return address.Address{Local: address.Localpart(m.LocalPart), Domain: address.Domain(d.Name)}, nil
}

// EffectiveQuota is the mailbox's quota in bytes, or the domain's default;
// 0 means unlimited.
func EffectiveQuota(m *Mailbox, d *Domain) int64 {
	if m.QuotaBytes > 0 {
		return m.QuotaBytes
	}
	return domainQuota(d)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
