package queue

import "time"

// Kinds of queued messages.
const (
	KindSubmission = "submission"
	KindForward    = "forward"
	KindResponder  = "responder"
	KindDSN        = "dsn"
	KindReport     = "report"
	// KindList: a list's copy for one member (VERP sender), its notices
	// and mail to its owners (mailsvc/delivery, list.go). No archive
	// copy per envelope, no postmaster copy of a failure: the failure
	// goes to the VERP address, which counts it against the member.
	KindList = "list"
)

func validKind(k string) bool {
	switch k {
	case KindSubmission, KindForward, KindResponder, KindDSN, KindReport, KindList:
		return true
	}
	return false
}

// messageRow is a queued message.
type messageRow struct {
	ID            int64
	BlobKey       string
	Prefix        string
	MailFrom      string
	MailboxID     int64
	DomainID      int64
	Kind          string
	Size          int64
	CreatedAt     time.Time
	NextAttemptAt time.Time
	LeaseOwner    string
	LeaseUntil    *time.Time
}

func (messageRow) TableName() string { return "queue_messages" }

// rcptRow is one recipient of a queued message not yet delivered.
type rcptRow struct {
	ID            int64
	MessageID     int64
	Rcpt          string
	Domain        string // destination domain, or an address literal
	IsLocal       bool   // delivered through the LocalDeliverer
	Notify        bool   // a failure is reported to the sender
	Attempts      int64
	NextAttemptAt time.Time
	LastAttemptAt *time.Time
	LastError     string
	RemoteHost    string
	RemoteReply   string
}

func (rcptRow) TableName() string { return "queue_recipients" }

// failureRow is a recipient the queue gave up on.
type failureRow struct {
	ID         int64
	QueueID    int64
	Kind       string
	MailFrom   string
	Rcpt       string
	Subject    string
	Error      string
	RemoteHost string
	Attempts   int64
	DomainID   int64
	FailedAt   time.Time
	ReportedAt *time.Time
}

func (failureRow) TableName() string { return "queue_failures" }

// routeRow is a static route.
type routeRow struct {
	Domain      string `gorm:"primaryKey"`
	Host        string
	Port        int
	ImplicitTLS bool `gorm:"column:implicit_tls"`
	Username    string
	PasswordEnc string
	UpdatedAt   time.Time
}

func (routeRow) TableName() string { return "queue_routes" }

// settingsRow holds the Delivery Options as JSON.
type settingsRow struct {
	ID           int64 `gorm:"primaryKey;autoIncrement:false"`
	Value        string
	LastReportAt *time.Time
	ReportSeq    int64
	UpdatedAt    time.Time
}

func (settingsRow) TableName() string { return "queue_settings" }
