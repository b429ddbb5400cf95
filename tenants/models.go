package tenants

import "time"

// Domain is a mail domain hosted here.
type Domain struct {
	ID           int64
	Name         string // ASCII, lower case
	Description  string
	Active       bool
	MaxMailboxes int64 // 0: unlimited
	MaxAliases   int64 // 0: unlimited
	DefaultQuota int64 // bytes; 0: unlimited
	// MaxMailboxQuota is the largest quota a postmaster may give one
	// mailbox (bytes; 0: not set, the default quota is the most).
	MaxMailboxQuota int64
	// StorageTotal bounds the sum of the quotas of the domain's
	// mailboxes that postmasters may grant (bytes; 0: no bound).
	StorageTotal int64
	// RequireTwoFactor: the domain's users must sign in to the panel
	// and webmail with two factors (migration 0067).
	RequireTwoFactor bool
	// PasswordChangeOff: the domain's users may not change their own
	// password (migration 0068).
	PasswordChangeOff bool
	// UsersSetRetention: users may change their own folders' message
	// expiry (migration 0069).
	UsersSetRetention   bool
	AliasOfID           *int64
	PostmasterMailboxID *int64
	// MTASTSMode is the mode of the domain's own MTA-STS policy:
	// MTASTSNone, MTASTSTesting or MTASTSEnforce (tenants/mtasts.go).
	MTASTSMode string `gorm:"column:mta_sts_mode;default:none"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// IsAlias reports whether the domain is an alias of another.
func (d *Domain) IsAlias() bool { return d.AliasOfID != nil }

// Mailbox is an account: an address that stores mail and may log in.
type Mailbox struct {
	ID           int64
	DomainID     int64
	LocalPart    string
	FullName     string
	PasswordHash string `json:"-"`
	QuotaBytes   int64  // 0: the domain's default
	Active       bool
	StoreMail    bool
	MaySend      bool
	MayResponder bool
	MayForward   bool
	Webmail      bool
	Postmaster   bool
	// InDirectory is the "show in directory" switch (the local directory,
	// CardDAV and LDAP); the postmaster sets it.
	InDirectory bool `gorm:"default:true"`
	// MayEditGAB lets the mailbox add, edit and delete contacts of its
	// domain's global address book (postmasters always may).
	MayEditGAB         bool `gorm:"column:may_edit_gab"`
	ExpiresAt          *time.Time
	ExpireInactiveDays int64 // 0: never
	ExpireAfterDays    int64 // days after creation; 0: never
	LastLoginAt        *time.Time
	// SessionsEndedAt: the user ended their protocol sessions; those
	// logged in before it end (SessionWatch).
	SessionsEndedAt *time.Time
	// SignInOff: the mailbox takes mail but may not log in (a leaver).
	SignInOff bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// CredentialsVersion moves on with every password change or imported
	// hash (not with the rehash at login); a panel session signed in with
	// another version has ended. Only the SQL that moves it writes it.
	CredentialsVersion int64 `gorm:"->" json:"-"`
}

// TableName is gorm's table name.
func (Mailbox) TableName() string { return "mailboxes" }

// Expired reports whether the mailbox is past its expiry date, its days
// after creation, or has been unused longer than its inactivity limit:
// the one expiry rule, for logins, sessions and pages.
func (m *Mailbox) Expired(now time.Time) bool {
	if m.ExpiresAt != nil && !now.Before(*m.ExpiresAt) {
		return true
	}
	if m.ExpireAfterDays > 0 && !now.Before(m.CreatedAt.Add(time.Duration(m.ExpireAfterDays)*24*time.Hour)) {
		return true
	}
	if m.ExpireInactiveDays > 0 {
		last := m.CreatedAt
		if m.LastLoginAt != nil {
			last = *m.LastLoginAt
		}
		if now.Sub(last) > time.Duration(m.ExpireInactiveDays)*24*time.Hour {
			return true
		}
	}
	return false
}

// addressRow is one address the system answers for: a mailbox's own
// address or an alias of it.
type addressRow struct {
	ID        int64
	DomainID  int64
	LocalPart string
	MailboxID int64
	IsAlias   bool
	CreatedAt time.Time
}

func (addressRow) TableName() string { return "addresses" }

type forwardRow struct {
	ID        int64
	MailboxID int64
	Address   string
}

func (forwardRow) TableName() string { return "forwards" }

// Responder is a mailbox's autoresponder.
type Responder struct {
	MailboxID    int64 `gorm:"primaryKey;autoIncrement:false"`
	Enabled      bool
	Subject      string
	Body         string
	StartsAt     *time.Time
	EndsAt       *time.Time
	IntervalDays int64
	UpdatedAt    time.Time
}

// Active reports whether the responder answers at now.
func (r *Responder) Active(now time.Time) bool {
	if r == nil || !r.Enabled {
		return false
	}
	if r.StartsAt != nil && now.Before(*r.StartsAt) {
		return false
	}
	if r.EndsAt != nil && !now.Before(*r.EndsAt) {
		return false
	}
	return true
}

type responderReply struct {
	MailboxID int64  `gorm:"primaryKey;autoIncrement:false"`
	Sender    string `gorm:"primaryKey"`
	SentAt    time.Time
}

func (responderReply) TableName() string { return "responder_replies" }

// Admin is a system administrator.
type Admin struct {
	ID           int64
	Name         string
	PasswordHash string `json:"-"`
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	// CredentialsVersion is the Mailbox field's twin.
	CredentialsVersion int64 `gorm:"->" json:"-"`
}

// APIKey is a provisioning API key; the key itself is never stored.
type APIKey struct {
	ID          int64
	Prefix      string
	Hash        string `json:"-"`
	DomainID    *int64 // nil: an admin key
	Description string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
}

// TableName is gorm's table name.
func (APIKey) TableName() string { return "api_keys" }

type loginFailure struct {
	ThrottleKey string `gorm:"primaryKey"`
	Failures    int64
	LastAt      time.Time
	LockedUntil *time.Time
	Pending     int64      // checks in flight (migration 0046)
	PendingAt   *time.Time // when the last of them started
}

func (loginFailure) TableName() string { return "login_failures" }

// AuditEntry is one recorded change.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string
	RemoteAddr string
	DomainID   *int64
	Action     string
	Detail     string
}

// TableName is gorm's table name.
func (AuditEntry) TableName() string { return "audit_log" }

type setting struct {
	Name  string `gorm:"primaryKey"`
	Value string
}

func (setting) TableName() string { return "settings" }
