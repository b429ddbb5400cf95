package queue

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
)

// Every change an administrator or postmaster makes here (Delivery
// Options, routes, retry, delete) is written to the tenants audit log in
// the transaction of the change. Details name what changed, never a
// password: only that one was set, replaced or removed.

// settingsChanges describes how the stored Delivery Options changed.
func settingsChanges(old, st *settings) string {
	var ch []string
	add := func(field, from, to string) {
		if from != to {
			ch = append(ch, fmt.Sprintf("%s %s -> %s", field, orNone(from), orNone(to)))
		}
	}
	add("max_connections", strconv.Itoa(old.MaxConnections), strconv.Itoa(st.MaxConnections))
	add("dns_server", old.DNSServer, st.DNSServer)
	ch = append(ch, relayChanges("smart_host", old.SmartHost, st.SmartHost)...)
	add("smart_host_delay", durationText(old.SmartHostDelay), durationText(st.SmartHostDelay))
	add("lifetime", durationText(old.Lifetime), durationText(st.Lifetime))
	add("retry_intervals", durationsText(old.RetryIntervals), durationsText(st.RetryIntervals))
	add("archive_address", old.ArchiveAddress, st.ArchiveAddress)
	add("report_address", old.ReportAddress, st.ReportAddress)
	add("report_interval", durationText(old.ReportInterval), durationText(st.ReportInterval))
	if len(ch) == 0 {
		return "no change"
	}
	return strings.Join(ch, ", ")
}

// relayChanges describes how a relay changed; field names the relay.
func relayChanges(field string, old, r storedRelay) []string {
	var ch []string
	if a, b := relayText(old), relayText(r); a != b {
		ch = append(ch, fmt.Sprintf("%s %s -> %s", field, orNone(a), orNone(b)))
	}
	if old.Username != r.Username {
		ch = append(ch, fmt.Sprintf("%s_username %s -> %s", field, orNone(old.Username), orNone(r.Username)))
	}
	switch {
	case old.PasswordEnc == r.PasswordEnc:
	case r.PasswordEnc == "":
		ch = append(ch, field+"_password removed")
	case old.PasswordEnc == "":
		ch = append(ch, field+"_password set")
	default:
		ch = append(ch, field+"_password replaced")
	}
	return ch
}

func relayText(r storedRelay) string {
	if r.Host == "" {
		return ""
	}
	s := net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
	if r.ImplicitTLS {
		s += " (TLS)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func durationText(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}

func durationsText(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = durationText(d)
	}
	return strings.Join(s, " ")
}

// routeChange describes a route as set: its domain, host and whether its
// credentials were added, kept, replaced or removed.
func routeChange(domain string, old, r storedRelay, existed bool) string {
	s := domain + " -> " + relayText(r)
	if r.Username != "" {
		s += ", user " + r.Username
	}
	switch {
	case old.PasswordEnc == r.PasswordEnc && r.PasswordEnc != "":
		s += ", password kept"
	case old.PasswordEnc == r.PasswordEnc:
	case r.PasswordEnc == "":
		s += ", password removed"
	case old.PasswordEnc == "":
		s += ", password set"
	default:
		s += ", password replaced"
	}
	if !existed {
		s += " (new)"
	}
	return s
}

// auditMessageTx records action on queued message id, which scope must
// reach (else tenants.ErrNotFound), under the message's sending domain.
func (q *Queue) auditMessageTx(tx *gorm.DB, sc tenants.Scope, scope func(*gorm.DB) *gorm.DB, id int64, action string) error {
	var m messageRow
	err := tx.Scopes(scope).Select("id", "mail_from", "domain_id", "kind").Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("queued message %d: %w", id, tenants.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read queued message: %w", err)
	}
	var rcpts []string
	if err := tx.Model(&rcptRow{}).Where("message_id = ?", id).Order("id").Limit(6).Pluck("rcpt", &rcpts).Error; err != nil {
		return fmt.Errorf("read queued recipients: %w", err)
	}
	to := strings.Join(rcpts, ", ")
	if len(rcpts) > 5 {
		to = strings.Join(rcpts[:5], ", ") + ", ..."
	}
	detail := fmt.Sprintf("message %d (%s) from <%s> to %s", m.ID, m.Kind, m.MailFrom, to)
	return q.tenants.RecordAuditTx(database.TxOf(tx), sc, &m.DomainID, action, detail)
}
