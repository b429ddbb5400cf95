package queue_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Every outgoing message leaves a copy in the archive mailbox, which must
// be local.
func TestArchive(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		q := e.queue(db)
		e.settings(q, func(s *queueadmin.Settings) { s.ArchiveAddress = "Archive@Local.Test" })
		e.enqueue(q, e.submission("bob@remote.test"), message("keep a copy"))
		e.run(q)
		waitFor(t, "delivery and archive copy", func() bool { return e.mx.count() == 1 && len(e.inbox("archive")) == 1 })
		if got := e.inbox("archive")[0]; !strings.Contains(got, "Subject: keep a copy") || !strings.HasPrefix(got, "Return-Path: <john@local.test>") {
			t.Errorf("archive copy %q", got)
		}
		waitFor(t, "empty queue", func() bool { return len(e.queued(q)) == 0 })
		if m := e.mx.received()[0]; strings.Join(m.Rcpts, ",") != "bob@remote.test" {
			t.Errorf("the archive copy went out: %v", m.Rcpts)
		}

		for _, addr := range []string{"someone@remote.test", "nobody@local.test", "not an address"} {
			err := q.SetDeliveryOptions(e.ctx, e.sys, withArchive(q, e, addr))
			var ve *tenants.ValidationError
			if !errors.As(err, &ve) || ve.Field != "archive_address" {
				t.Errorf("archive %q: err %v", addr, err)
			}
		}
		// A mailbox that forwards would send every copy out again.
		d, _ := address.ParseDomain("local.test")
		to, _ := address.ParseAddress("x@remote.test")
		tcheck(t, e.ts.SetForwards(e.ctx, e.sys, address.Address{Local: "archive", Domain: d}, []address.Address{to}, true), "forward")
		var ve *tenants.ValidationError
		if err := q.SetDeliveryOptions(e.ctx, e.sys, withArchive(q, e, "archive@local.test")); !errors.As(err, &ve) {
			t.Errorf("archive that forwards accepted: %v", err)
		}
	})
}

func withArchive(q *queue.Queue, e *env, addr string) queueadmin.Settings {
	s, err := q.DeliveryOptions(e.ctx, e.sys)
	tcheck(e.t, err, "read options")
	s.ArchiveAddress = addr
	return *s
}

// The delivery failure report lists what failed since the last one, on
// its schedule, to a local or remote address.
func TestFailureReport(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) {
			m.rcpt = func(addr string, n int) error {
				if strings.HasPrefix(addr, "bob@") {
					return noUser
				}
				return nil
			}
		})
		q := e.queue(db)
		e.settings(q, func(s *queueadmin.Settings) {
			s.ReportAddress = "reports@local.test"
			s.ReportInterval = 24 * time.Hour
		})
		e.run(q)
		e.enqueue(q, e.submission("bob@remote.test"), message("report me"))
		waitFor(t, "bounce", func() bool { return len(e.inbox("john")) == 1 })
		time.Sleep(100 * time.Millisecond)
		if len(e.inbox("reports")) != 0 {
			t.Fatalf("report sent before its time")
		}
		e.clock.Advance(24*time.Hour + time.Minute)
		waitFor(t, "report", func() bool { return len(e.inbox("reports")) == 1 })
		rep := e.inbox("reports")[0]
		for _, want := range []string{"Subject: Delivery failure report for mail.local.test: 1 undelivered", "sender:    john@local.test",
			"recipient: bob@remote.test", "550 5.1.1 no such user", "subject:   report me", "Return-Path: <>"} {
			if !strings.Contains(rep, want) {
				t.Errorf("report lacks %q:\n%s", want, rep)
			}
		}
		fs, _, err := q.Failures(e.ctx, e.sys, 10, 0)
		tcheck(t, err, "failures")
		if len(fs) != 1 || !fs[0].Reported {
			t.Errorf("failures %+v", fs)
		}
		// Nothing new: no report at the next turn, but one on demand, to a
		// remote address.
		e.clock.Advance(24*time.Hour + time.Minute)
		time.Sleep(100 * time.Millisecond)
		if len(e.inbox("reports")) != 1 {
			t.Errorf("empty report sent on schedule")
		}
		e.settings(q, func(s *queueadmin.Settings) { s.ReportAddress = "admin@remote.test" })
		tcheck(t, q.SendFailureReport(e.ctx, e.sys), "report now")
		waitFor(t, "remote report", func() bool { return e.mx.count() == 1 })
		if m := e.mx.received()[0]; m.From != "" || m.Rcpts[0] != "admin@remote.test" || !strings.Contains(m.Data, "None.") {
			t.Errorf("remote report %+v", m)
		}
	})
}

// The Delivery Options are checked in one place; each mistake names its
// field.
func TestSettingsValidation(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		q := e.queue(db)
		tests := []struct {
			field  string
			change func(s *queueadmin.Settings)
		}{
			{"max_connections", func(s *queueadmin.Settings) { s.MaxConnections = 0 }},
			{"max_connections", func(s *queueadmin.Settings) { s.MaxConnections = 100 }},
			{"dns_server", func(s *queueadmin.Settings) { s.DNSServer = "dns.example.test" }},
			{"dns_server", func(s *queueadmin.Settings) { s.DNSServer = "127.0.0.1:0" }},
			{"smart_host", func(s *queueadmin.Settings) { s.SmartHost.Host = "bad host!" }},
			{"smart_host_port", func(s *queueadmin.Settings) { s.SmartHost = queueadmin.Relay{Host: "relay.test", Port: 70000} }},
			{"smart_host_password", func(s *queueadmin.Settings) { s.SmartHost = queueadmin.Relay{Host: "relay.test", Username: "u"} }},
			{"smart_host_username", func(s *queueadmin.Settings) { s.SmartHost = queueadmin.Relay{Host: "relay.test", Password: "p"} }},
			{"smart_host", func(s *queueadmin.Settings) { s.SmartHost = queueadmin.Relay{Username: "u", Password: "p"} }},
			{"smart_host_delay", func(s *queueadmin.Settings) { s.SmartHostDelay = time.Hour }},
			{"lifetime", func(s *queueadmin.Settings) { s.Lifetime = time.Minute }},
			{"lifetime", func(s *queueadmin.Settings) { s.Lifetime = 60 * 24 * time.Hour }},
			{"retry_intervals", func(s *queueadmin.Settings) { s.RetryIntervals = nil }},
			{"retry_intervals", func(s *queueadmin.Settings) { s.RetryIntervals = []time.Duration{time.Second} }},
			{"report_address", func(s *queueadmin.Settings) { s.ReportAddress = "nope" }},
			{"report_interval", func(s *queueadmin.Settings) { s.ReportAddress = "a@b.test"; s.ReportInterval = time.Minute }},
		}
		for _, tt := range tests {
			s, err := q.DeliveryOptions(e.ctx, e.sys)
			tcheck(t, err, "read")
			tt.change(s)
			err = q.SetDeliveryOptions(e.ctx, e.sys, *s)
			var ve *tenants.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("%s: got %v", tt.field, err)
			}
		}
		def := queueDefaults(t, q, e)
		if def.MaxConnections != 10 || def.Lifetime != 5*24*time.Hour || len(def.RetryIntervals) == 0 {
			t.Errorf("defaults changed by refused settings: %+v", def)
		}
		e.settings(q, func(s *queueadmin.Settings) {
			s.DNSServer = "192.0.2.53"
			s.SmartHost = queueadmin.Relay{Host: "Relay.Example.Test"}
		})
		got := queueDefaults(t, q, e)
		if got.DNSServer != "192.0.2.53:53" || got.SmartHost.Host != "relay.example.test" || got.SmartHost.Port != 25 {
			t.Errorf("normalised %+v", got)
		}
		pm := tenants.Scope{Role: tenants.RolePostmaster, DomainID: e.domain.ID, Actor: "pm@local.test"}
		if _, err := q.DeliveryOptions(e.ctx, pm); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster read the options: %v", err)
		}
		if err := q.SetRoute(e.ctx, pm, queueadmin.Route{Domain: "x.test", Relay: queueadmin.Relay{Host: "h.test"}}); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster set a route: %v", err)
		}
	})
}

func queueDefaults(t *testing.T, q *queue.Queue, e *env) *queueadmin.Settings {
	s, err := q.DeliveryOptions(e.ctx, e.sys)
	tcheck(t, err, "read")
	return s
}

// The queue page: retry now, delete, and a postmaster sees only the mail
// of their own domain.
func TestQueueActions(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) { m.rcpt = func(string, int) error { return tempFail } })
		q := e.queue(db)
		e.enqueue(q, e.submission("bob@remote.test"), message("stuck"))
		other, err := e.ts.CreateDomain(e.ctx, e.sys, "other.local.test", "")
		tcheck(t, err, "other domain")
		e.run(q)
		waitFor(t, "first attempt", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && ms[0].Recipients[0].Attempts == 1
		})
		id := e.queued(q)[0].ID
		tcheck(t, q.RetryNow(e.ctx, e.sys, id), "retry now")
		waitFor(t, "second attempt", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && ms[0].Recipients[0].Attempts == 2
		})

		mine := tenants.Scope{Role: tenants.RolePostmaster, DomainID: e.domain.ID, Actor: "pm@local.test"}
		theirs := tenants.Scope{Role: tenants.RolePostmaster, DomainID: other.ID, Actor: "pm@other.local.test"}
		user := tenants.Scope{Role: tenants.RoleUser, DomainID: e.domain.ID, MailboxID: e.mbox["john"]}
		if ms, n, err := q.QueueMessages(e.ctx, mine, queueadmin.QueueQuery{Search: "BOB@"}); err != nil || n != 1 || len(ms) != 1 {
			t.Errorf("own postmaster: %d %v", n, err)
		}
		if ms, n, err := q.QueueMessages(e.ctx, e.sys, queueadmin.QueueQuery{Search: "nobody"}); err != nil || n != 0 || len(ms) != 0 {
			t.Errorf("search: %d %v", n, err)
		}
		if _, n, err := q.QueueMessages(e.ctx, theirs, queueadmin.QueueQuery{}); err != nil || n != 0 {
			t.Errorf("other postmaster sees %d: %v", n, err)
		}
		if _, err := q.QueueMessage(e.ctx, theirs, id); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("other postmaster reads it: %v", err)
		}
		if err := q.DeleteQueued(e.ctx, theirs, id); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("other postmaster deletes it: %v", err)
		}
		if err := q.RetryNow(e.ctx, theirs, id); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("other postmaster retries it: %v", err)
		}
		if _, _, err := q.QueueMessages(e.ctx, user, queueadmin.QueueQuery{}); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("user lists the queue: %v", err)
		}
		m, err := q.QueueMessage(e.ctx, mine, id)
		tcheck(t, err, "read message")
		if m.Subject != "stuck" || m.From != "john@local.test" || m.Kind != "submission" || len(m.Recipients) != 1 {
			t.Errorf("message %+v", m)
		}
		tcheck(t, q.DeleteQueued(e.ctx, mine, id), "delete")
		if _, err := q.QueueMessage(e.ctx, e.sys, id); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("deleted message still there: %v", err)
		}
		if err := q.DeleteQueued(e.ctx, e.sys, id); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		n, err := e.st.CollectGarbage(e.ctx, -time.Hour)
		tcheck(t, err, "gc")
		if n != 1 {
			t.Errorf("blob of the deleted message not collected: %d", n)
		}
	})
}
