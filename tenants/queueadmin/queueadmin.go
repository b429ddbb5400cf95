// Package queueadmin holds the plain values of the outbound queue's
// administration: its settings (Mailtraq's Delivery Options), the routing
// table, the queue listing and the list of failed deliveries.
//
// mailsvc/queue implements the methods that take and return these values;
// the panel declares the small interface it needs in terms of them, so that
// it never imports mailsvc. No value here ever carries a stored password:
// Relay.Password is write-only.
package queueadmin

import "time"

// Settings are the Delivery Options.
type Settings struct {
	// MaxConnections is the most delivery connections open at once, 1 to
	// 99, across all destinations (per process).
	MaxConnections int
	// DNSServer is the resolver MX lookups ask: "IP" or "IP:port" (port 53
	// by default). Empty: the server's default (--dns-server), else the
	// resolvers of /etc/resolv.conf.
	DNSServer string
	// SmartHost, when its Host is set, receives all remote mail that no
	// Route names.
	SmartHost Relay
	// SmartHostDelay is waited before each connection to the smart host
	// (0: none; at most 10 minutes).
	SmartHostDelay time.Duration
	// Lifetime is how long a message is retried before it is returned to
	// its sender as undeliverable (default 5 days).
	Lifetime time.Duration
	// RetryIntervals are the waits after the first, second, ... failed
	// attempt; the last one repeats until Lifetime runs out.
	RetryIntervals []time.Duration
	// ArchiveAddress, when set, receives a copy of every outgoing message.
	// It must be a local mailbox: a remote archive would send every copy
	// out again, a loop.
	ArchiveAddress string
	// ReportAddress, when set, receives the delivery failure report (local
	// or remote) every ReportInterval.
	ReportAddress  string
	ReportInterval time.Duration
}

// Relay is a host mail is handed to instead of the destination's MX: the
// smart host or a route's host, with optional SMTP AUTH credentials
// (Mailtraq's Outbound SMTP Security table). Its name is looked up by the
// system resolver (/etc/hosts first), not the DNS server of the options.
type Relay struct {
	// Host is a host name or IP address; empty means none.
	Host string
	// Port defaults to 25.
	Port int
	// ImplicitTLS connects with TLS from the start (port 465 style)
	// instead of STARTTLS.
	ImplicitTLS bool
	// Username for SMTP AUTH; empty: no AUTH, and any stored password is
	// dropped. Credentials are only ever sent over a TLS connection whose
	// certificate verifies.
	Username string
	// Password is write-only: it is never filled in a value read back. On
	// a change, empty keeps the stored password.
	Password string
	// HasPassword (read only) says that a password is stored.
	HasPassword bool
}

// Route sends mail for one destination domain to a fixed host.
type Route struct {
	// Domain is the recipient domain the route applies to, exactly (a
	// subdomain needs a route of its own).
	Domain string
	Relay
}

// QueueQuery filters and pages the queue listing.
type QueueQuery struct {
	// Search matches the sender or a recipient (substring).
	Search string
	Limit  int // default 50, at most 500
	Offset int
}

// Message is one queued message, waiting for some of its recipients.
type Message struct {
	ID      int64
	Kind    string // submission, forward, responder, dsn, report
	From    string // envelope sender; "" is the null sender
	Subject string
	Size    int64
	Created time.Time
	// Expires is when the queue gives up and returns the message.
	Expires time.Time
	// NextAttempt is the earliest next attempt of any recipient.
	NextAttempt time.Time
	// Sending says a worker is delivering it right now.
	Sending    bool
	Recipients []Recipient
}

// Recipient is one recipient of a queued message, not yet delivered.
type Recipient struct {
	Address string
	// Local is true for copies delivered on this server (archive,
	// notices to local addresses).
	Local       bool
	Attempts    int
	NextAttempt time.Time
	LastAttempt *time.Time
	LastError   string
	// RemoteHost and RemoteReply are the host of the last attempt and
	// its last reply.
	RemoteHost  string
	RemoteReply string
}

// Failure is a recipient the queue gave up on: a permanent error or the
// lifetime ran out.
type Failure struct {
	ID         int64
	QueueID    int64
	Kind       string
	From       string
	Recipient  string
	Subject    string
	Error      string
	RemoteHost string
	Attempts   int
	FailedAt   time.Time
	// Reported says the failure was in a sent failure report.
	Reported bool
}
