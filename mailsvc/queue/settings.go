package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/queueadmin"
)

// Limits of the Delivery Options.
const (
	MinConnections   = 1
	MaxConnections   = 99
	maxSmartDelay    = 10 * time.Minute
	minLifetime      = time.Hour
	maxLifetime      = 30 * 24 * time.Hour
	minRetryInterval = time.Minute
	maxRetryInterval = 24 * time.Hour
	maxRetryEntries  = 30
	minReportEvery   = 10 * time.Minute
	maxReportEvery   = 31 * 24 * time.Hour
)

// DefaultSettings are the Delivery Options until an administrator changes
// them: 10 connections, retries after 5, 10, 20, 40 minutes, 1h20, 2h40,
// then every 4 hours, for 5 days; a daily failure report once an address
// is set.
func DefaultSettings() queueadmin.Settings {
	return queueadmin.Settings{
		MaxConnections: 10,
		Lifetime:       5 * 24 * time.Hour,
		RetryIntervals: []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute,
			80 * time.Minute, 160 * time.Minute, 4 * time.Hour},
		ReportInterval: 24 * time.Hour,
	}
}

// settings is the stored form of the Delivery Options: the password sealed.
type settings struct {
	MaxConnections int             `json:"max_connections"`
	DNSServer      string          `json:"dns_server"`
	SmartHost      storedRelay     `json:"smart_host"`
	SmartHostDelay time.Duration   `json:"smart_host_delay"`
	Lifetime       time.Duration   `json:"lifetime"`
	RetryIntervals []time.Duration `json:"retry_intervals"`
	ArchiveAddress string          `json:"archive_address"`
	ReportAddress  string          `json:"report_address"`
	ReportInterval time.Duration   `json:"report_interval"`
}

type storedRelay struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	ImplicitTLS bool   `json:"implicit_tls"`
	Username    string `json:"username"`
	PasswordEnc string `json:"password_enc"`
}

const smartHostOwner = "smarthost"

func routeOwner(domain string) string { return "route:" + domain }

func defaultStored() *settings {
	d := DefaultSettings()
	return &settings{MaxConnections: d.MaxConnections, Lifetime: d.Lifetime, RetryIntervals: d.RetryIntervals, ReportInterval: d.ReportInterval}
}

// loadSettings reads the stored settings through db (a read handle or a
// transaction); defaults where nothing is stored.
func loadSettings(db *gorm.DB) (*settings, error) {
	var row settingsRow
	err := db.Where("id = 1").Take(&row).Error
	st := defaultStored()
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read delivery options: %w", err)
	}
	if err := json.Unmarshal([]byte(row.Value), st); err != nil {
		return nil, fmt.Errorf("decode delivery options: %w", err)
	}
	if st.MaxConnections < MinConnections || st.MaxConnections > MaxConnections {
		st.MaxConnections = DefaultSettings().MaxConnections
	}
	if len(st.RetryIntervals) == 0 {
		st.RetryIntervals = DefaultSettings().RetryIntervals
	}
	if st.Lifetime <= 0 {
		st.Lifetime = DefaultSettings().Lifetime
	}
	return st, nil
}

// current returns the settings for the workers, read again at most every
// few seconds so that changes made by another process arrive soon.
func (q *Queue) current(ctx context.Context) (*settings, error) {
	q.setMu.Lock()
	defer q.setMu.Unlock()
	// Wall time, not q.now: this is a cache's age, not the queue's
	// schedule.
	if q.cached != nil && time.Since(q.cachedAt) < settingsTTL {
		return q.cached, nil
	}
	st, err := loadSettings(q.db.Read(ctx))
	if err != nil {
		return nil, err
	}
	q.cached, q.cachedAt = st, time.Now()
	return st, nil
}

func (q *Queue) forgetSettings() {
	q.setMu.Lock()
	q.cached = nil
	q.setMu.Unlock()
}

const settingsTTL = 5 * time.Second

// saveSettingsTx writes the settings row, keeping the report schedule.
func saveSettingsTx(tx *gorm.DB, st *settings, now time.Time) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode delivery options: %w", err)
	}
	err = tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&settingsRow{ID: 1, Value: string(b), UpdatedAt: now}).Error
	if err != nil {
		return fmt.Errorf("save delivery options: %w", err)
	}
	return nil
}

// allowed lets system administrators (and the system itself) at the
// Delivery Options.
func allowed(sc tenants.Scope) error {
	if !sc.AllDomains() {
		return tenants.ErrForbidden
	}
	return nil
}

// DeliveryOptions returns the Delivery Options; passwords are never
// returned, only whether one is stored.
func (q *Queue) DeliveryOptions(ctx context.Context, sc tenants.Scope) (*queueadmin.Settings, error) {
	if err := allowed(sc); err != nil {
		return nil, err
	}
	st, err := loadSettings(q.db.Read(ctx))
	if err != nil {
		return nil, err
	}
	out := &queueadmin.Settings{
		MaxConnections: st.MaxConnections,
		DNSServer:      st.DNSServer,
		SmartHost:      st.SmartHost.view(),
		SmartHostDelay: st.SmartHostDelay,
		Lifetime:       st.Lifetime,
		RetryIntervals: append([]time.Duration(nil), st.RetryIntervals...),
		ArchiveAddress: st.ArchiveAddress,
		ReportAddress:  st.ReportAddress,
		ReportInterval: st.ReportInterval,
	}
	return out, nil
}

func (r storedRelay) view() queueadmin.Relay {
	return queueadmin.Relay{Host: r.Host, Port: r.Port, ImplicitTLS: r.ImplicitTLS, Username: r.Username, HasPassword: r.PasswordEnc != ""}
}

// SetDeliveryOptions checks and stores the Delivery Options. Errors a user
// can fix are *tenants.ValidationError naming the field. An empty smart
// host password keeps the stored one; an empty user name drops both.
func (q *Queue) SetDeliveryOptions(ctx context.Context, sc tenants.Scope, in queueadmin.Settings) error {
	if err := allowed(sc); err != nil {
		return err
	}
	if err := q.checkSettings(ctx, &in); err != nil {
		return err
	}
	err := q.db.Write(ctx, func(tx *gorm.DB) error {
		old, err := loadSettings(tx)
		if err != nil {
			return err
		}
		relay, err := q.mergeRelay(in.SmartHost, old.SmartHost, smartHostOwner, "smart_host_password")
		if err != nil {
			return err
		}
		st := &settings{
			MaxConnections: in.MaxConnections,
			DNSServer:      in.DNSServer,
			SmartHost:      relay,
			SmartHostDelay: in.SmartHostDelay,
			Lifetime:       in.Lifetime,
			RetryIntervals: in.RetryIntervals,
			ArchiveAddress: in.ArchiveAddress,
			ReportAddress:  in.ReportAddress,
			ReportInterval: in.ReportInterval,
		}
		if err := saveSettingsTx(tx, st, q.clock()); err != nil {
			return err
		}
		return q.tenants.RecordAuditTx(database.TxOf(tx), sc, nil, "delivery.options", settingsChanges(old, st))
	})
	if err != nil {
		return err
	}
	q.forgetSettings()
	q.log.InfoContext(ctx, "delivery options changed", "actor", sc.Actor, "max_connections", in.MaxConnections,
		"smart_host", in.SmartHost.Host, "archive", in.ArchiveAddress, "report_to", in.ReportAddress)
	q.Kick()
	return nil
}

// mergeRelay turns a relay from a form into its stored form: a new
// password is sealed, an empty one keeps the stored password, no user name
// drops it.
func (q *Queue) mergeRelay(in queueadmin.Relay, old storedRelay, owner, field string) (storedRelay, error) {
	out := storedRelay{Host: in.Host, Port: in.Port, ImplicitTLS: in.ImplicitTLS, Username: in.Username}
	if in.Host == "" || in.Username == "" {
		out.Username = ""
		return out, nil
	}
	switch {
	case in.Password != "":
		enc, err := q.sealer.seal(in.Password, owner)
		if errors.Is(err, errNoKey) {
			return out, &tenants.ValidationError{Field: field, Message: "credentials can't be stored: the server has no key file"}
		}
		if err != nil {
			return out, err
		}
		out.PasswordEnc = enc
	case old.PasswordEnc != "":
		out.PasswordEnc = old.PasswordEnc
	default:
		return out, &tenants.ValidationError{Field: field, Message: "give the password for this user name"}
	}
	return out, nil
}

// checkSettings normalises and checks the options in place: the one place
// their rules live.
func (q *Queue) checkSettings(ctx context.Context, in *queueadmin.Settings) error {
	if in.MaxConnections < MinConnections || in.MaxConnections > MaxConnections {
		return invalid("max_connections", "parallel connections must be between %d and %d", MinConnections, MaxConnections)
	}
	dns, err := normalizeDNSServer(in.DNSServer)
	if err != nil {
		return invalid("dns_server", "%s", err)
	}
	in.DNSServer = dns
	if err := checkRelay(&in.SmartHost, "smart_host"); err != nil {
		return err
	}
	if in.SmartHostDelay < 0 || in.SmartHostDelay > maxSmartDelay {
		return invalid("smart_host_delay", "the delay must be between 0 and %s", maxSmartDelay)
	}
	if in.Lifetime < minLifetime || in.Lifetime > maxLifetime {
		return invalid("lifetime", "the lifetime must be between 1 hour and 30 days")
	}
	if len(in.RetryIntervals) == 0 || len(in.RetryIntervals) > maxRetryEntries {
		return invalid("retry_intervals", "give 1 to %d retry intervals", maxRetryEntries)
	}
	for _, d := range in.RetryIntervals {
		if d < minRetryInterval || d > maxRetryInterval {
			return invalid("retry_intervals", "each retry interval must be between 1 minute and 24 hours")
		}
	}
	in.ArchiveAddress = strings.TrimSpace(in.ArchiveAddress)
	if in.ArchiveAddress != "" {
		a, err := address.ParseAddress(in.ArchiveAddress)
		if err != nil {
			return invalid("archive_address", "not a valid address")
		}
		plan, err := q.tenants.ResolveRecipient(ctx, a)
		switch {
		case errors.Is(err, tenants.ErrNotHosted):
			return invalid("archive_address", "the archive must be a local mailbox: a copy sent to a remote address would go out again and loop")
		case errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrDisabled):
			return invalid("archive_address", "no active local mailbox has this address")
		case err != nil:
			return err
		case len(plan.Forward) > 0:
			return invalid("archive_address", "this mailbox forwards its mail, which would send every copy out again; choose one without forwards")
		}
		in.ArchiveAddress = a.String()
	}
	in.ReportAddress = strings.TrimSpace(in.ReportAddress)
	if in.ReportAddress != "" {
		a, err := address.ParseAddress(in.ReportAddress)
		if err != nil {
			return invalid("report_address", "not a valid address")
		}
		in.ReportAddress = a.String()
		if in.ReportInterval < minReportEvery || in.ReportInterval > maxReportEvery {
			return invalid("report_interval", "the report interval must be between 10 minutes and 31 days")
		}
	} else if in.ReportInterval < minReportEvery || in.ReportInterval > maxReportEvery {
		in.ReportInterval = DefaultSettings().ReportInterval
	}
	return nil
}

// checkRelay normalises a relay: a host name or IP, port 25 by default.
func checkRelay(r *queueadmin.Relay, field string) error {
	r.Host = strings.ToLower(strings.TrimSpace(r.Host))
	r.Username = strings.TrimSpace(r.Username)
	if r.Host == "" {
		if r.Username != "" || r.Password != "" {
			return invalid(field, "give the host the credentials are for")
		}
		*r = queueadmin.Relay{}
		return nil
	}
	if err := checkHost(r.Host); err != nil {
		return invalid(field, "%s", err)
	}
	if r.Port == 0 {
		r.Port = 25
	}
	if r.Port < 1 || r.Port > 65535 {
		return invalid(field+"_port", "the port must be between 1 and 65535")
	}
	if r.Username == "" && r.Password != "" {
		return invalid(field+"_username", "give the user name for this password")
	}
	if strings.ContainsAny(r.Username, "\x00\r\n") || strings.ContainsAny(r.Password, "\x00\r\n") {
		return invalid(field+"_username", "user name and password can't hold control characters")
	}
	return nil
}

// checkHost accepts an IP address, a domain name or localhost.
func checkHost(h string) error {
	if h == "localhost" {
		return nil
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return nil
	}
	if _, err := address.ParseDomain(h); err != nil {
		return fmt.Errorf("%q is not a host name or IP address", h)
	}
	return nil
}

// normalizeDNSServer turns "IP" or "IP:port" into "IP:port"; "" stays
// (dnsres.ParseServer).
func normalizeDNSServer(s string) (string, error) { return dnsres.ParseServer(s) }

func invalid(field, format string, args ...any) error {
	return &tenants.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Routes lists the routing table by domain; passwords are never returned.
func (q *Queue) Routes(ctx context.Context, sc tenants.Scope) ([]queueadmin.Route, error) {
	if err := allowed(sc); err != nil {
		return nil, err
	}
	var rows []routeRow
	if err := q.db.Read(ctx).Order("domain").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	out := make([]queueadmin.Route, len(rows))
	for i, r := range rows {
		out[i] = queueadmin.Route{Domain: r.Domain, Relay: r.stored().view()}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out, nil
}

func (r routeRow) stored() storedRelay {
	return storedRelay{Host: r.Host, Port: r.Port, ImplicitTLS: r.ImplicitTLS, Username: r.Username, PasswordEnc: r.PasswordEnc}
}

// SetRoute adds or changes the route of a destination domain. An empty
// password keeps the stored one; an empty user name drops both.
func (q *Queue) SetRoute(ctx context.Context, sc tenants.Scope, r queueadmin.Route) error {
	if err := allowed(sc); err != nil {
		return err
	}
	d, err := address.ParseDomain(r.Domain)
	if err != nil {
		return invalid("domain", "not a valid domain name")
	}
	if r.Host == "" {
		return invalid("host", "give the host to send this domain's mail to")
	}
	if err := checkRelay(&r.Relay, "host"); err != nil {
		return err
	}
	domain := d.String()
	err = q.db.Write(ctx, func(tx *gorm.DB) error {
		var old routeRow
		err := tx.Where("domain = ?", domain).Take(&old).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("read route: %w", err)
		}
		relay, err := q.mergeRelay(r.Relay, old.stored(), routeOwner(domain), "password")
		if err != nil {
			return err
		}
		row := routeRow{Domain: domain, Host: relay.Host, Port: relay.Port, ImplicitTLS: relay.ImplicitTLS,
			Username: relay.Username, PasswordEnc: relay.PasswordEnc, UpdatedAt: q.clock()}
		if err := tx.Save(&row).Error; err != nil {
			return fmt.Errorf("save route: %w", err)
		}
		return q.tenants.RecordAuditTx(database.TxOf(tx), sc, nil, "route.set", routeChange(domain, old.stored(), relay, old.Domain != ""))
	})
	if err != nil {
		return err
	}
	q.log.InfoContext(ctx, "route set", "actor", sc.Actor, "domain", domain, "host", r.Host+":"+strconv.Itoa(r.Port))
	return nil
}

// DeleteRoute removes a domain's route.
func (q *Queue) DeleteRoute(ctx context.Context, sc tenants.Scope, domain string) error {
	if err := allowed(sc); err != nil {
		return err
	}
	d, err := address.ParseDomain(domain)
	if err != nil {
		return fmt.Errorf("route %s: %w", domain, tenants.ErrNotFound)
	}
	var n int64
	err = q.db.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Where("domain = ?", d.String()).Delete(&routeRow{})
		n = res.RowsAffected
		if res.Error != nil || n == 0 {
			return res.Error
		}
		return q.tenants.RecordAuditTx(database.TxOf(tx), sc, nil, "route.delete", d.String())
	})
	if err != nil {
		return fmt.Errorf("delete route: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("route %s: %w", domain, tenants.ErrNotFound)
	}
	q.log.InfoContext(ctx, "route deleted", "actor", sc.Actor, "domain", d.String())
	return nil
}

// route returns the route of a destination domain, nil when none.
func (q *Queue) route(ctx context.Context, domain string) (*routeRow, error) {
	var r routeRow
	err := q.db.Read(ctx).Where("domain = ?", domain).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read route: %w", err)
	}
	return &r, nil
}
