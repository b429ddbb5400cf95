package e2e_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// The panel imports no mailsvc package, nor do its tests; these tests run
// its pages on the real outbound queue.

// Passwords the queue stores sealed; no page may ever show one.
const (
	smartPW = "Smart-Relay-Pw#0451"
	routePW = "Route-Relay-Pw#9137"
)

// qfx is a panel fixture with the outbound queue built as cmd/postdesk
// builds it (message store on a blob folder, a key file for stored
// passwords) and never started, so nothing is sent.
type qfx struct {
	*paneltest.Fx
	db *database.DB
	q  *queue.Queue
	st *store.Store
}

func newQueueFx(t *testing.T, db *database.DB) *qfx {
	t.Helper()
	qf := &qfx{db: db}
	qf.Fx = paneltest.NewFx(t, db, func(d *panel.Deps) {
		bs, err := blob.NewFiles(filepath.Join(t.TempDir(), "blobs"))
		paneltest.Must(t, err)
		qf.st = store.New(db, bs, store.Options{BlobRefs: []string{queue.BlobTable}})
		qf.q, err = queue.New(db, qf.st, d.Tenants, nil, queue.Options{Hostname: "mail.test", KeyFile: filepath.Join(t.TempDir(), "queue.key")})
		paneltest.Must(t, err)
		d.Queue = qf.q
	})
	return qf
}

// enqueue queues a message from a mailbox of domain to rcpts, as
// submission does, and returns its queue ID.
func (qf *qfx) enqueue(from, subject string, rcpts ...string) int64 {
	qf.T.Helper()
	ctx := context.Background()
	a := paneltest.Addr(from)
	d, err := qf.S.Domain(ctx, qf.Sys, a.Domain)
	paneltest.Must(qf.T, err)
	m, err := qf.S.Mailbox(ctx, qf.Sys, a)
	paneltest.Must(qf.T, err)
	p, err := qf.st.Blobs().Create(ctx)
	paneltest.Must(qf.T, err)
	io.WriteString(p, "From: "+from+"\r\nTo: "+strings.Join(rcpts, ", ")+"\r\nSubject: "+subject+"\r\nMessage-ID: <"+strconv.FormatInt(time.Now().UnixNano(), 36)+"@test>\r\n\r\nHello.\r\n")
	env := queue.Envelope{From: from, Rcpts: rcpts, MailboxID: m.ID, DomainID: d.ID, Kind: queue.KindSubmission}
	_, err = qf.st.Deliver(ctx, &store.Delivery{Blob: p, KeepBlob: true, Extra: func(tx database.Tx, key string) error {
		env.BlobKey = key
		return qf.q.EnqueueTx(tx, env)
	}})
	paneltest.Must(qf.T, err)
	ms, _, err := qf.q.QueueMessages(ctx, qf.Sys, queueadmin.QueueQuery{Limit: 500})
	paneltest.Must(qf.T, err)
	var id int64
	for _, m := range ms {
		id = max(id, m.ID)
	}
	return id
}

// deferRcpt records a failed attempt for a recipient, as the worker
// would.
func (qf *qfx) deferRcpt(id int64, rcpt, reply string) {
	qf.T.Helper()
	paneltest.Must(qf.T, qf.db.Write(context.Background(), func(tx *gorm.DB) error {
		return tx.Exec("UPDATE queue_recipients SET attempts = 2, last_error = ?, remote_host = ?, remote_reply = ?, last_attempt_at = ? WHERE message_id = ? AND rcpt = ?",
			reply, "mx.Remote.test", reply, time.Now().UTC(), id, rcpt).Error
	}))
}

// fail records a recipient the queue gave up on, as the worker would.
func (qf *qfx) fail(from, rcpt, reply string) {
	qf.T.Helper()
	ctx := context.Background()
	d, err := qf.S.Domain(ctx, qf.Sys, paneltest.Addr(from).Domain)
	paneltest.Must(qf.T, err)
	paneltest.Must(qf.T, qf.db.Write(ctx, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO queue_failures (queue_id, kind, mail_from, rcpt, subject, error, remote_host, attempts, domain_id, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			999, "submission", from, rcpt, "gone", reply, "mx.Remote.test", 3, d.ID, time.Now().UTC()).Error
	}))
}

// auditHas reports whether the audit log holds an entry of action by
// actor from the test client's address whose detail contains detail, in
// domain ("" for system-wide entries).
func (qf *qfx) auditHas(action, actor, domain, detail string) bool {
	qf.T.Helper()
	rows, _, err := qf.S.AuditRecords(context.Background(), qf.Sys, tenants.AuditQuery{Limit: 1000})
	paneltest.Must(qf.T, err)
	for _, r := range rows {
		if r.Action == action && r.Actor == actor && r.RemoteAddr == "192.0.2.10" && r.Domain == domain && strings.Contains(r.Detail, detail) {
			return true
		}
	}
	return false
}

// noSecrets fails when a body shows a stored password.
func noSecrets(t *testing.T, where, body string) {
	t.Helper()
	for _, s := range []string{smartPW, routePW} {
		if strings.Contains(body, s) {
			t.Errorf("%s shows the stored password %q", where, s)
		}
	}
}

// deliveryForm is the Delivery Options form with valid values.
func deliveryForm() url.Values {
	return url.Values{
		"max_connections": {"20"}, "dns_server": {"127.0.0.1:5353"},
		"smart_host": {"smtp.relay.test"}, "smart_host_port": {"587"}, "smart_host_username": {"relayuser"}, "smart_host_password": {smartPW},
		"smart_host_delay": {"30s"}, "lifetime": {"3d"}, "retry_intervals": {"10m, 1h 2h30m"},
		"archive_address": {"carl@a.test"}, "report_address": {"pm@a.test"}, "report_interval": {"12h"},
	}
}

func TestDeliveryOptionsPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		qf := newQueueFx(t, db)
		ctx := context.Background()
		c := qf.Client()
		c.Login("root", paneltest.AdminPW)

		// The defaults.
		d := c.Get("/admin/delivery", http.StatusOK)
		if v, _ := d.Find(`#max_connections`).Attr("value"); v != "10" {
			t.Errorf("max connections %q", v)
		}
		if v, _ := d.Find(`#retry_intervals`).Attr("value"); v != "5m 10m 20m 40m 1h20m 2h40m 4h" {
			t.Errorf("retry intervals %q", v)
		}
		if v, _ := d.Find(`#lifetime`).Attr("value"); v != "5d" {
			t.Errorf("lifetime %q", v)
		}
		if paneltest.Text(d, `[data-testid=smart-host-password-state]`) != "No password is stored." {
			t.Errorf("password state %q", paneltest.Text(d, `[data-testid=smart-host-password-state]`))
		}

		// Each mistake is shown at its field, and nothing is stored.
		for _, tc := range []struct{ field, value, want string }{
			{"max_connections", "0", "between 1 and 99"},
			{"max_connections", "100", "between 1 and 99"},
			{"max_connections", "many", "whole number"},
			{"dns_server", "dns.example", "IP address"},
			{"smart_host", "bad host!", "not a host name"},
			{"smart_host_port", "70000", "between 1 and 65535"},
			{"smart_host_delay", "1h", "between 0 and 10m"},
			{"lifetime", "5 days", "use a duration"},
			{"lifetime", "10m", "between 1 hour and 30 days"},
			{"retry_intervals", "10s", "between 1 minute and 24 hours"},
			{"archive_address", "x@remote.test", "must be a local mailbox"},
			{"archive_address", "nobody@a.test", "no active local mailbox"},
			{"report_address", "not an address", "not a valid address"},
			{"report_interval", "1m", "between 10 minutes and 31 days"},
		} {
			form := deliveryForm()
			form.Set(tc.field, tc.value)
			rec := c.Post("/admin/delivery", form, http.StatusUnprocessableEntity)
			noSecrets(t, "the re-shown form", rec.Body.String())
			d := paneltest.Doc(t, rec)
			got := paneltest.Text(d, `[data-testid=field-error]`)
			if !strings.Contains(strings.ToLower(got), strings.ToLower(tc.want)) {
				t.Errorf("%s=%q: error %q, want %q", tc.field, tc.value, got, tc.want)
			}
			if v, _ := d.Find(`[name=` + tc.field + `]`).Attr("value"); v != tc.value {
				t.Errorf("%s=%q: form shows %q", tc.field, tc.value, v)
			}
			if pwv, _ := d.Find(`[name=smart_host_password]`).Attr("value"); pwv != "" {
				t.Errorf("password field filled in: %q", pwv)
			}
		}
		if s, _ := qf.q.DeliveryOptions(ctx, qf.Sys); s.MaxConnections != 10 || s.SmartHost.Host != "" {
			t.Fatalf("a refused form changed the options: %+v", s)
		}

		// Saved: every option.
		d = c.Follow(c.Post("/admin/delivery", deliveryForm(), http.StatusSeeOther))
		noSecrets(t, "the Delivery Options page", d.Text())
		if paneltest.Text(d, `[data-testid=flash]`) != "Delivery Options saved." {
			t.Errorf("flash %q", paneltest.Text(d, `[data-testid=flash]`))
		}
		s, err := qf.q.DeliveryOptions(ctx, qf.Sys)
		paneltest.Must(t, err)
		want := queueadmin.Settings{MaxConnections: 20, DNSServer: "127.0.0.1:5353",
			SmartHost:      queueadmin.Relay{Host: "smtp.relay.test", Port: 587, Username: "relayuser", HasPassword: true},
			SmartHostDelay: 30 * time.Second, Lifetime: 72 * time.Hour,
			RetryIntervals: []time.Duration{10 * time.Minute, time.Hour, 150 * time.Minute},
			ArchiveAddress: "carl@a.test", ReportAddress: "pm@a.test", ReportInterval: 12 * time.Hour}
		if !sameSettings(*s, want) {
			t.Errorf("stored %+v\nwant %+v", *s, want)
		}
		if paneltest.Text(d, `[data-testid=smart-host-password-state]`) != "A password is stored; leave this empty to keep it." {
			t.Errorf("password state %q", paneltest.Text(d, `[data-testid=smart-host-password-state]`))
		}
		if v, _ := d.Find(`#smart_host_username`).Attr("value"); v != "relayuser" {
			t.Errorf("user name %q", v)
		}
		if v, _ := d.Find(`#smart_host_password`).Attr("value"); v != "" {
			t.Errorf("password field %q", v)
		}
		if v, _ := d.Find(`#retry_intervals`).Attr("value"); v != "10m 1h 2h30m" {
			t.Errorf("retry intervals shown as %q", v)
		}

		// An empty password keeps the stored one; the checkbox removes
		// user name and password.
		form := deliveryForm()
		form.Set("smart_host_password", "")
		form.Set("max_connections", "21")
		c.Post("/admin/delivery", form, http.StatusSeeOther)
		if s, _ := qf.q.DeliveryOptions(ctx, qf.Sys); !s.SmartHost.HasPassword || s.SmartHost.Username != "relayuser" || s.MaxConnections != 21 {
			t.Errorf("empty password did not keep the stored one: %+v", s.SmartHost)
		}
		d = c.Get("/admin/delivery", http.StatusOK)
		if d.Find(`[data-testid=smart-host-clear]`).Length() != 1 {
			t.Error("no way to remove the credentials")
		}
		form.Set("smart_host_clear", "on")
		d = c.Follow(c.Post("/admin/delivery", form, http.StatusSeeOther))
		if s, _ := qf.q.DeliveryOptions(ctx, qf.Sys); s.SmartHost.HasPassword || s.SmartHost.Username != "" || s.SmartHost.Host != "smtp.relay.test" {
			t.Errorf("credentials not removed: %+v", s.SmartHost)
		}
		if paneltest.Text(d, `[data-testid=smart-host-password-state]`) != "No password is stored." {
			t.Errorf("password state after removal %q", paneltest.Text(d, `[data-testid=smart-host-password-state]`))
		}
		// A user name without a password to keep is refused.
		form.Del("smart_host_clear")
		rec := c.Post("/admin/delivery", form, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`), "Give the password") {
			t.Errorf("user name without password: %q", paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`))
		}

		// Routes: add with credentials, mistakes, change keeping the
		// password, remove.
		rf := url.Values{"domain": {"Partner.test"}, "host": {"mx.partner.test"}, "host_port": {"2525"}, "host_username": {"ruser"}, "password": {routePW}}
		d = c.Follow(c.Post("/admin/delivery/routes", rf, http.StatusSeeOther))
		noSecrets(t, "the routes", d.Text())
		if got := paneltest.Text(d, `[data-testid=route-row]`); !strings.Contains(got, "partner.test mx.partner.test:2525 user ruser, password stored") {
			t.Errorf("route row %q", got)
		}
		for _, tc := range []struct{ field, value, want string }{
			{"domain", "bad_domain!", "not a valid domain"},
			{"host", "", "give the host"},
			{"host_port", "0x19", "port number"},
			{"host_port", "70000", "between 1 and 65535"},
		} {
			f := url.Values{}
			for k, v := range rf {
				f[k] = v
			}
			f.Set(tc.field, tc.value)
			rec := c.Post("/admin/delivery/routes", f, http.StatusUnprocessableEntity)
			noSecrets(t, "the re-shown route form", rec.Body.String())
			if got := paneltest.Text(paneltest.Doc(t, rec), `[data-testid=route-form] [data-testid=field-error]`); !strings.Contains(strings.ToLower(got), tc.want) {
				t.Errorf("route %s=%q: %q, want %q", tc.field, tc.value, got, tc.want)
			}
		}
		rec = c.Post("/admin/delivery/routes", url.Values{"domain": {"new.test"}, "host": {"mx.new.test"}, "host_username": {"u"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=field-error]`), "Give the password") {
			t.Error("a new route's user name without a password accepted")
		}
		d = c.Get("/admin/delivery?route=partner.test", http.StatusOK)
		if v, _ := d.Find(`#route_host`).Attr("value"); v != "mx.partner.test" {
			t.Errorf("route edit form host %q", v)
		}
		if v, _ := d.Find(`#route_password`).Attr("value"); v != "" {
			t.Errorf("route password field %q", v)
		}
		noSecrets(t, "the route edit form", d.Text())
		c.Post("/admin/delivery/routes", url.Values{"domain": {"partner.test"}, "host": {"mx2.partner.test"}, "host_username": {"ruser"}, "host_tls": {"on"}}, http.StatusSeeOther)
		rs, err := qf.q.Routes(ctx, qf.Sys)
		paneltest.Must(t, err)
		if len(rs) != 1 || rs[0].Host != "mx2.partner.test" || rs[0].Port != 25 || !rs[0].ImplicitTLS || !rs[0].HasPassword {
			t.Errorf("route after change %+v", rs)
		}
		c.Post("/admin/delivery/routes", url.Values{"domain": {"partner.test"}, "host": {"mx2.partner.test"}, "host_username": {"ruser"}, "clear_credentials": {"on"}}, http.StatusSeeOther)
		if rs, _ := qf.q.Routes(ctx, qf.Sys); len(rs) != 1 || rs[0].HasPassword || rs[0].Username != "" {
			t.Errorf("route credentials not removed: %+v", rs)
		}
		c.Post("/admin/delivery/routes/partner.test/delete", nil, http.StatusSeeOther)
		if rs, _ := qf.q.Routes(ctx, qf.Sys); len(rs) != 0 {
			t.Errorf("route not removed: %+v", rs)
		}
		c.Post("/admin/delivery/routes/partner.test/delete", nil, http.StatusNotFound)

		// Every change is in the audit log: who, from where, what; never
		// a password.
		for _, e := range []struct{ action, detail string }{
			{"delivery.options", "max_connections 10 -> 20"},
			{"delivery.options", "smart_host_password set"},
			{"delivery.options", "smart_host_password removed"},
			{"route.set", "partner.test -> mx.partner.test:2525, user ruser, password set (new)"},
			{"route.set", "partner.test -> mx2.partner.test:25 (TLS), user ruser, password kept"},
			{"route.set", "password removed"},
			{"route.delete", "partner.test"},
		} {
			if !qf.auditHas(e.action, "root", "", e.detail) {
				t.Errorf("no audit entry %s %q", e.action, e.detail)
			}
		}
		d = c.Get("/admin/audit", http.StatusOK)
		noSecrets(t, "the audit log", d.Text())
		if !strings.Contains(paneltest.Text(d, `[data-testid=audit]`), "root 192.0.2.10 delivery.options") {
			t.Errorf("audit page %q", paneltest.Text(d, `[data-testid=audit] tbody tr`))
		}
		var details []string
		paneltest.Must(t, db.Read(ctx).Table("audit_log").Pluck("detail", &details).Error)
		noSecrets(t, "the audit table", strings.Join(details, "\n"))

		// Postmasters and users never reach these pages.
		for _, who := range []string{"pm@a.test", "ann@a.test"} {
			o := qf.Client()
			o.Login(who, paneltest.PW)
			o.Get("/admin/delivery", http.StatusForbidden)
			o.Post("/admin/delivery", deliveryForm(), http.StatusForbidden)
			o.Post("/admin/delivery/routes", rf, http.StatusForbidden)
		}
		if rs, _ := qf.q.Routes(ctx, qf.Sys); len(rs) != 0 {
			t.Errorf("a postmaster added a route: %+v", rs)
		}
	})
}

// sameSettings compares settings.
func sameSettings(a, b queueadmin.Settings) bool {
	return reflect.DeepEqual(a, b)
}

func TestQueuePages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		qf := newQueueFx(t, db)
		ctx := context.Background()
		idA := qf.enqueue("ann@a.test", "Hello from A", "x@remote.test", "y@remote.test")
		idB := qf.enqueue("dora@b.test", "Secret-B queued", "victim@remote.test")
		qf.deferRcpt(idA, "x@remote.test", "451 4.3.0 try again later")
		qf.fail("ann@a.test", "gone@remote.test", "550 5.1.1 no such user")
		qf.fail("dora@b.test", "bgone@remote.test", "550 5.1.1 Secret-B user gone")
		sA, sB := strconv.FormatInt(idA, 10), strconv.FormatInt(idB, 10)

		// The administrator sees every message and failure.
		c := qf.Client()
		c.Login("root", paneltest.AdminPW)
		d := c.Get("/admin/queue", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=queue-id]`); got != sA+" "+sB {
			t.Errorf("queue ids %q", got)
		}
		if got := paneltest.Text(d, `[data-testid=queue-rcpts]`); got != "x@remote.test y@remote.test victim@remote.test" {
			t.Errorf("recipients %q", got)
		}
		if got := paneltest.Text(d, `[data-testid=queue-attempts]`); got != "2 0" {
			t.Errorf("attempts %q", got)
		}
		if got := paneltest.Text(d, `[data-testid=queue-error]`); got != "451 4.3.0 try again later" {
			t.Errorf("last errors %q", got)
		}
		if got := paneltest.Text(d, `[data-testid=failures-total]`); got != "2 failed deliveries" {
			t.Errorf("failures %q", got)
		}
		if got := paneltest.Text(d, `[data-testid=report-note]`); got != "No report address is set in the Delivery Options." {
			t.Errorf("report note %q", got)
		}
		d = c.Get("/admin/queue?q=DORA", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=queue-id]`); got != sB {
			t.Errorf("search dora: %q", got)
		}
		d = c.Get("/admin/queue?q=nobody-at-all", http.StatusOK)
		if d.Find(`[data-testid=queue-empty]`).Length() != 1 {
			t.Error("an empty result says nothing")
		}
		d = c.Get("/admin/queue/"+sA, http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=queue-recipient]`); !strings.Contains(got, "x@remote.test deferred: will be tried again 2") ||
			!strings.Contains(got, "451 4.3.0 try again later mx.Remote.test") || !strings.Contains(got, "y@remote.test not tried yet 0") {
			t.Errorf("recipients of %s: %q", sA, got)
		}
		// The expiry of a message still queued is when it gives up, not a
		// time it was returned.
		if got := paneltest.Text(d, `[data-testid=queue-facts]`); !strings.Contains(got, "Sender ann@a.test Subject Hello from A Kind submission") ||
			!strings.Contains(got, "Gives up (UTC)") || strings.Contains(got, "returned at") {
			t.Errorf("facts %q", got)
		}
		c.Get("/admin/queue/999999", http.StatusNotFound)
		c.Get("/admin/queue/abc", http.StatusNotFound)
		d = c.Get("/admin/queue/failures", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=failure-rcpt]`); got != "bgone@remote.test gone@remote.test" && got != "gone@remote.test bgone@remote.test" {
			t.Errorf("failures %q", got)
		}

		// Retry now: due at once, recorded.
		paneltest.Must(t, db.Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE queue_messages SET next_attempt_at = ? WHERE id = ?", time.Now().Add(time.Hour).UTC(), idA).Error
		}))
		rec := c.Post("/admin/queue/"+sA+"/retry", nil, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != "/admin/queue/"+sA {
			t.Errorf("retry went to %q", loc)
		}
		d = c.Follow(rec)
		if paneltest.Text(d, `[data-testid=flash]`) != "Message "+sA+" will be tried again now." {
			t.Errorf("flash %q", paneltest.Text(d, `[data-testid=flash]`))
		}
		if m, _ := qf.q.QueueMessage(ctx, qf.Sys, idA); m.NextAttempt.After(time.Now()) {
			t.Errorf("next attempt still %v", m.NextAttempt)
		}
		rec = c.Post("/admin/queue/"+sA+"/retry", url.Values{"return": {"list"}}, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != "/admin/queue" {
			t.Errorf("retry from the list went to %q", loc)
		}
		c.Post("/admin/queue/999999/retry", nil, http.StatusNotFound)
		if !qf.auditHas("queue.retry", "root", "a.test", "message "+sA+" (submission) from <ann@a.test> to x@remote.test, y@remote.test") {
			t.Error("retry not in the audit log")
		}

		// The failure report: refused without an address, then queued.
		rec = c.Post("/admin/queue/report", nil, http.StatusUnprocessableEntity)
		if !strings.Contains(paneltest.Text(paneltest.Doc(t, rec), `[data-testid=report-form] [data-testid=field-error]`), "No report address is set") {
			t.Errorf("report without address: %q", paneltest.Text(paneltest.Doc(t, rec), `main`))
		}
		s, err := qf.q.DeliveryOptions(ctx, qf.Sys)
		paneltest.Must(t, err)
		s.ReportAddress = "reports@remote.test"
		paneltest.Must(t, qf.q.SetDeliveryOptions(ctx, qf.Sys, *s))
		d = c.Follow(c.Post("/admin/queue/report", nil, http.StatusSeeOther))
		if paneltest.Text(d, `[data-testid=flash]`) != "The failure report was queued." || !strings.Contains(paneltest.Text(d, `[data-testid=report-note]`), "reports@remote.test every 1d") {
			t.Errorf("after the report: %q / %q", paneltest.Text(d, `[data-testid=flash]`), paneltest.Text(d, `[data-testid=report-note]`))
		}
		if !strings.Contains(paneltest.Text(d, `[data-testid=queue-rcpts]`), "reports@remote.test") {
			t.Errorf("no report queued: %q", paneltest.Text(d, `[data-testid=queue-rcpts]`))
		}

		// A postmaster: the own domain's queue, linked from the domain's
		// pages; nothing of b.test; no administrator's page.
		p := qf.Client()
		p.Login("pm@a.test", paneltest.PW)
		d = p.Get("/d/a.test", http.StatusOK)
		if d.Find(`nav a[href="/d/a.test/queue"]`).Length() != 1 {
			t.Error("no link to the queue on the domain page")
		}
		d = p.Get("/d/a.test/queue", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=queue-id]`); got != sA {
			t.Errorf("postmaster's queue %q", got)
		}
		if got := paneltest.Text(d, `[data-testid=failure-rcpt]`); got != "gone@remote.test" {
			t.Errorf("postmaster's failures %q", got)
		}
		if d.Find(`[data-testid=report-form]`).Length() != 0 {
			t.Error("a postmaster gets the report button")
		}
		d = p.Get("/d/a.test/queue/failures", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=failure-rcpt]`); got != "gone@remote.test" {
			t.Errorf("postmaster's failures page %q", got)
		}
		d = p.Get("/d/a.test/queue/"+sA, http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=queue-heading]`); got != "Queued message "+sA {
			t.Errorf("heading %q", got)
		}
		for _, path := range []string{"/d/a.test/queue?q=dora", "/d/a.test/queue/failures"} {
			if body := p.Do(http.MethodGet, path, nil).Body.String(); strings.Contains(body, "Secret-B") || strings.Contains(body, "dora@b.test") {
				t.Errorf("%s shows b.test's mail", path)
			}
		}
		p.Get("/d/a.test/queue/"+sB, http.StatusNotFound)
		p.Get("/d/b.test/queue", http.StatusNotFound)
		p.Get("/d/b.test/queue/"+sB, http.StatusNotFound)
		p.Get("/admin/queue", http.StatusForbidden)
		p.Get("/admin/queue/"+sB, http.StatusForbidden)
		p.Get("/admin/queue/failures", http.StatusForbidden)
		p.Get("/d/a.test", http.StatusOK)
		for _, path := range []string{"/d/a.test/queue/" + sB + "/retry", "/d/a.test/queue/" + sB + "/delete", "/d/b.test/queue/" + sB + "/delete"} {
			p.Post(path, nil, http.StatusNotFound)
		}
		for _, path := range []string{"/admin/queue/" + sB + "/retry", "/admin/queue/" + sB + "/delete", "/admin/queue/report"} {
			p.Post(path, nil, http.StatusForbidden)
		}
		if _, err := qf.q.QueueMessage(ctx, qf.Sys, idB); err != nil {
			t.Fatalf("b.test's message gone: %v", err)
		}
		p.Post("/d/a.test/queue/"+sA+"/retry", nil, http.StatusSeeOther)
		if !qf.auditHas("queue.retry", "pm@a.test", "a.test", "message "+sA) {
			t.Error("the postmaster's retry is not in the audit log")
		}
		d = p.Get("/d/a.test/audit", http.StatusOK)
		if !strings.Contains(paneltest.Text(d, `[data-testid=audit]`), "pm@a.test 192.0.2.10 queue.retry") {
			t.Errorf("domain audit log %q", paneltest.Text(d, `[data-testid=audit] tbody`))
		}
		idA2 := qf.enqueue("carl@a.test", "Second from A", "z@remote.test")
		d = p.Follow(p.Post("/d/a.test/queue/"+strconv.FormatInt(idA2, 10)+"/delete", nil, http.StatusSeeOther))
		if _, err := qf.q.QueueMessage(ctx, qf.Sys, idA2); err == nil {
			t.Error("the postmaster's delete did not remove the message")
		}
		if paneltest.Text(d, `[data-testid=flash]`) != "Message "+strconv.FormatInt(idA2, 10)+" removed from the queue." {
			t.Errorf("flash %q", paneltest.Text(d, `[data-testid=flash]`))
		}
		if !qf.auditHas("queue.delete", "pm@a.test", "a.test", "from <carl@a.test> to z@remote.test") {
			t.Error("the postmaster's delete is not in the audit log")
		}

		// A user has no queue page.
		u := qf.Client()
		u.Login("ann@a.test", paneltest.PW)
		u.Get("/d/a.test/queue", http.StatusForbidden)
		u.Get("/admin/queue", http.StatusForbidden)

		// An administrator on a domain's pages sees that domain's queue,
		// linked from the domain's page.
		d = c.Get("/admin/domains/b.test", http.StatusOK)
		if href, _ := d.Find(`[data-testid=domain-queue]`).Attr("href"); href != "/d/b.test/queue" {
			t.Errorf("domain page links the queue as %q", href)
		}
		d = c.Get("/d/b.test/queue", http.StatusOK)
		if got := paneltest.Text(d, `[data-testid=queue-id]`); got != sB {
			t.Errorf("admin on b.test's queue: %q", got)
		}
		c.Get("/d/b.test/queue/"+sA, http.StatusNotFound)
		c.Get("/d/b.test/queue/failures", http.StatusOK)
		c.Get("/d/b.test/queue/"+sB, http.StatusOK)
		c.Post("/d/b.test/queue/"+sB+"/retry", nil, http.StatusSeeOther)
		if !qf.auditHas("queue.retry", "root", "b.test", "message "+sB) {
			t.Error("the admin's retry on b.test is not in b.test's audit log")
		}

		// Delete: gone, recorded, a second time not found.
		d = c.Follow(c.Post("/admin/queue/"+sB+"/delete", nil, http.StatusSeeOther))
		if strings.Contains(paneltest.Text(d, `[data-testid=queue-id]`), sB) {
			t.Error("deleted message still listed")
		}
		c.Post("/admin/queue/"+sB+"/delete", nil, http.StatusNotFound)
		if !qf.auditHas("queue.delete", "root", "b.test", "message "+sB+" (submission) from <dora@b.test> to victim@remote.test") {
			t.Error("delete not in the audit log")
		}
	})
}
