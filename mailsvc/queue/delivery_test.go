package queue_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/dsn"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

var (
	tempFail = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	noUser   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
)

// A message for two domains that share an MX goes in one transaction,
// over STARTTLS, with its prefix, introduced by our host name; each
// recipient's attempt is logged.
func TestDeliver(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		q := e.queue(db)
		env := e.submission("bob@remote.test", "carol@other.test")
		env.Prefix = "X-Signed: yes\r\n"
		e.enqueue(q, env, message("hello"))
		e.run(q)
		waitFor(t, "delivery", func() bool { return e.mx.count() == 1 && len(e.queued(q)) == 0 })
		m := e.mx.received()[0]
		if m.From != "john@local.test" || strings.Join(m.Rcpts, ",") != "bob@remote.test,carol@other.test" {
			t.Errorf("envelope %q %q", m.From, m.Rcpts)
		}
		if !strings.HasPrefix(m.Data, "X-Signed: yes\r\nFrom: John") || !strings.Contains(m.Data, "\r\n.leading dot\r\n") {
			t.Errorf("data %q", m.Data)
		}
		if !m.TLS || m.Helo != "mail.local.test" {
			t.Errorf("tls %v helo %q", m.TLS, m.Helo)
		}
		logs := e.log.String()
		for _, rcpt := range []string{"bob@remote.test", "carol@other.test"} {
			if !strings.Contains(logs, "rcpt="+rcpt+" result=delivered remote_host=mx.remote.test[127.0.0.1]") {
				t.Errorf("no delivery line for %s in log", rcpt)
			}
		}
		if !strings.Contains(logs, "queue_id=") || !strings.Contains(logs, `reply="250`) {
			t.Errorf("log lacks queue id or reply")
		}
	})
}

// A temporary failure is retried after the first retry interval, then
// delivered; the queue page shows the attempt in between.
func TestRetryThenSuccess(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) {
			m.rcpt = func(addr string, n int) error {
				if n == 1 {
					return tempFail
				}
				return nil
			}
		})
		q := e.queue(db)
		e.enqueue(q, e.submission("bob@remote.test"), message("retry"))
		start := e.clock.Now()
		e.run(q)
		waitFor(t, "first attempt", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && ms[0].Recipients[0].Attempts == 1
		})
		r := e.queued(q)[0].Recipients[0]
		if !strings.Contains(r.LastError, "451 4.3.0 try again later") || r.RemoteHost != "mx.remote.test[127.0.0.1]" ||
			!r.NextAttempt.Equal(start.Add(5*time.Minute)) || r.LastAttempt == nil {
			t.Errorf("recipient after first attempt %+v", r)
		}
		if e.mx.count() != 0 {
			t.Fatalf("delivered despite 451")
		}
		e.clock.Advance(5 * time.Minute)
		q.Kick()
		waitFor(t, "second attempt", func() bool { return e.mx.count() == 1 && len(e.queued(q)) == 0 })
		if !strings.Contains(e.log.String(), "result=deferred") {
			t.Errorf("deferral not logged")
		}
	})
}

// A temporary failure and then a permanent one return the message to its
// sender with a DSN, and a copy goes to the domain's postmaster.
func TestRetryThenDSN(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) {
			m.rcpt = func(addr string, n int) error {
				if n == 1 {
					return tempFail
				}
				return noUser
			}
		})
		q := e.queue(db)
		e.enqueue(q, e.submission("bob@remote.test"), message("bounce me"))
		e.run(q)
		waitFor(t, "first attempt", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && ms[0].Recipients[0].Attempts == 1
		})
		e.clock.Advance(5 * time.Minute)
		q.Kick()
		waitFor(t, "DSN to sender and postmaster", func() bool { return len(e.inbox("john")) == 1 && len(e.inbox("pm")) == 1 })
		waitFor(t, "empty queue", func() bool { return len(e.queued(q)) == 0 })
		for _, who := range []string{"john", "pm"} {
			raw := e.inbox(who)[0]
			if !strings.HasPrefix(raw, "Return-Path: <>\r\n") {
				t.Errorf("%s: DSN not from the null sender: %q", who, raw[:40])
			}
			rep, err := dsn.Parse(strings.NewReader(raw))
			tcheck(t, err, "parse DSN")
			if len(rep.Recipients) != 1 {
				t.Fatalf("%s: recipients %+v", who, rep.Recipients)
			}
			r := rep.Recipients[0]
			if r.FinalRecipient != "bob@remote.test" || r.Action != dsn.Failed || r.Status != "5.1.1" ||
				r.RemoteMTA != "mx.remote.test" || r.Diagnostic != "550 5.1.1 no such user" {
				t.Errorf("%s: recipient %+v", who, r)
			}
			// The sender gets the message back; the postmaster's copy
			// holds its header only (Postfix's notify_classes).
			if rep.ReportingMTA != "mail.local.test" || rep.HeadersOnly != (who == "pm") || !strings.Contains(string(rep.Original), "Subject: bounce me") {
				t.Errorf("%s: report %q headers-only %v", who, rep.ReportingMTA, rep.HeadersOnly)
			}
			if body := strings.Contains(raw, "Hello there."); body != (who == "john") {
				t.Errorf("%s: returned body present %t", who, body)
			}
		}
		fs, n, err := q.Failures(e.ctx, e.sys, 10, 0)
		tcheck(t, err, "failures")
		if n != 1 || fs[0].Recipient != "bob@remote.test" || fs[0].From != "john@local.test" || fs[0].Subject != "bounce me" ||
			fs[0].Attempts != 2 || !strings.Contains(fs[0].Error, "550") {
			t.Errorf("failures %+v", fs)
		}
	})
}

// TestBounceCopyStaysInTenant: the postmaster's copy of a bounce of a
// b.test sender holds the header only and goes to b.test's own postmaster
// chain (its catchrest, else the system mailbox), never to local.test's
// postmaster, the oldest domain's (where it went, with the whole message).
func TestBounceCopyStaysInTenant(t *testing.T) {
	for _, catchrest := range []bool{false, true} {
		t.Run(fmt.Sprintf("catchrest=%t", catchrest), func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				e := newEnv(t, db)
				e.mx.set(func(m *mxServer) {
					m.rcpt = func(addr string, n int) error { return noUser }
				})
				bd, _ := address.ParseDomain("b.test")
				bdom, err := e.ts.CreateDomain(e.ctx, e.sys, bd, "")
				tcheck(t, err, "domain b.test")
				for _, l := range []string{"bob", "rest"} {
					m, err := e.ts.CreateMailbox(e.ctx, e.sys, tenants.NewMailbox{Address: address.Address{Local: address.Localpart(l), Domain: bd},
						Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()})
					tcheck(t, err, "mailbox")
					e.mbox[l] = m.ID
				}
				if catchrest {
					tcheck(t, e.ts.AddAlias(e.ctx, e.sys, address.Address{Local: "catchrest", Domain: bd}, address.Address{Local: "rest", Domain: bd}), "catchrest")
				}
				q := e.queue(db)
				body := "From: Bob <bob@b.test>\r\nTo: x@remote.test\r\nSubject: private plans\r\n\r\nThe secret body.\r\n"
				e.enqueue(q, queue.Envelope{From: "bob@b.test", Rcpts: []string{"x@remote.test"}, MailboxID: e.mbox["bob"], DomainID: bdom.ID, Kind: queue.KindSubmission}, body)
				e.run(q)
				copies := func() []string {
					if catchrest {
						return e.inbox("rest")
					}
					ms, _, err := e.st.SystemMessages(e.ctx, e.sys, 10, 0)
					tcheck(t, err, "system mailbox")
					var out []string
					for _, m := range ms {
						_, r, err := e.st.SystemMessage(e.ctx, e.sys, m.ID)
						tcheck(t, err, "read system message")
						b, err := io.ReadAll(r)
						r.Close()
						tcheck(t, err, "read system message")
						out = append(out, string(b))
					}
					return out
				}
				waitFor(t, "DSN to sender and copy", func() bool { return len(e.inbox("bob")) == 1 && len(copies()) == 1 })
				waitFor(t, "empty queue", func() bool { return len(e.queued(q)) == 0 })
				if n := len(e.inbox("pm")); n != 0 {
					t.Errorf("local.test's postmaster got %d messages of b.test", n)
				}
				raw := copies()[0]
				rep, err := dsn.Parse(strings.NewReader(raw))
				tcheck(t, err, "parse copy")
				if !rep.HeadersOnly || !strings.Contains(string(rep.Original), "Subject: private plans") || strings.Contains(raw, "secret body") {
					t.Errorf("postmaster copy not headers only: %q", raw)
				}
				if !strings.Contains(raw, "Delivered-To: postmaster@b.test\r\n") {
					t.Errorf("copy not addressed to b.test's postmaster: %q", raw[:200])
				}
				if own := e.inbox("bob")[0]; !strings.Contains(own, "secret body") {
					t.Errorf("the sender's notice lacks the message")
				}
			})
		})
	}
}

// A message still deferred when its lifetime runs out is returned as
// expired (4.4.7) with the last error.
func TestExpiry(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) { m.rcpt = func(string, int) error { return tempFail } })
		q := e.queue(db)
		e.enqueue(q, e.submission("bob@remote.test"), message("too late"))
		e.run(q)
		waitFor(t, "first attempt", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && ms[0].Recipients[0].Attempts == 1
		})
		if ms := e.queued(q); !ms[0].Expires.Equal(ms[0].Created.Add(5 * 24 * time.Hour)) {
			t.Errorf("expires %v, created %v", ms[0].Expires, ms[0].Created)
		}
		e.clock.Advance(5*24*time.Hour + time.Minute)
		q.Kick()
		waitFor(t, "expiry DSN", func() bool { return len(e.inbox("john")) == 1 })
		rep, err := dsn.Parse(strings.NewReader(e.inbox("john")[0]))
		tcheck(t, err, "parse DSN")
		r := rep.Recipients[0]
		if r.Status != "4.4.7" || r.Action != dsn.Failed || r.DiagnosticType != "X-Postdesk" ||
			!strings.Contains(r.Diagnostic, "expired") || !strings.Contains(r.Diagnostic, "451 4.3.0") {
			t.Errorf("recipient %+v", r)
		}
		waitFor(t, "empty queue", func() bool { return len(e.queued(q)) == 0 })
	})
}

// A message from the null sender that fails is dropped and recorded, never
// returned; nor does its postmaster get a copy.
func TestNoBounceToNullSender(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) { m.rcpt = func(string, int) error { return noUser } })
		q := e.queue(db)
		env := e.submission("bob@remote.test")
		env.From, env.Kind, env.MailboxID = "", "dsn", 0
		e.enqueue(q, env, message("a bounce"))
		e.run(q)
		waitFor(t, "failure", func() bool {
			_, n, err := q.Failures(e.ctx, e.sys, 10, 0)
			return err == nil && n == 1 && len(e.queued(q)) == 0
		})
		time.Sleep(100 * time.Millisecond)
		if len(e.inbox("john")) != 0 || len(e.inbox("pm")) != 0 || len(e.queued(q)) != 0 || e.mx.count() != 0 {
			t.Errorf("something was sent for a null-sender failure")
		}
		if !strings.Contains(e.log.String(), "rcpt=bob@remote.test result=failed") {
			t.Errorf("failure not logged")
		}
	})
}

// MX lookups go to the configured DNS server: a domain that does not exist
// or has a null MX fails at once, a DNS server failure is retried, an
// unreachable first MX falls back to the next, and a domain without MX is
// its own host.
func TestDNS(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.dns.add("nullmx.test. 300 IN MX 0 .")
		e.dns.add("fallback.test. 300 IN MX 10 mx1.fallback.test.")
		e.dns.add("fallback.test. 300 IN MX 20 mx.remote.test.")
		e.dns.add("mx1.fallback.test. 300 IN A 127.0.0.3") // nothing listens there
		e.dns.add("implicit.test. 300 IN A 127.0.0.1")
		e.dns.fail("servfail.test", 2)
		q := e.queue(db)
		e.enqueue(q, e.submission("a@nxdomain.test", "b@nullmx.test", "c@servfail.test", "d@fallback.test", "e@implicit.test"), message("dns"))
		e.run(q)
		waitFor(t, "DSN", func() bool { return len(e.inbox("john")) == 1 })
		rep, err := dsn.Parse(strings.NewReader(e.inbox("john")[0]))
		tcheck(t, err, "parse DSN")
		got := map[string]string{}
		for _, r := range rep.Recipients {
			got[r.FinalRecipient] = r.Status
		}
		if len(got) != 2 || got["a@nxdomain.test"] != "5.1.2" || got["b@nullmx.test"] != "5.1.10" {
			t.Errorf("DSN recipients %v", got)
		}
		waitFor(t, "deliveries", func() bool { return e.mx.count() == 2 })
		var rcpts []string
		for _, m := range e.mx.received() {
			rcpts = append(rcpts, m.Rcpts...)
		}
		if strings.Join(rcpts, ",") != "d@fallback.test,e@implicit.test" && strings.Join(rcpts, ",") != "e@implicit.test,d@fallback.test" {
			t.Errorf("delivered to %v", rcpts)
		}
		waitFor(t, "DSN sent", func() bool { return len(e.queued(q)) == 1 })
		ms := e.queued(q)
		if len(ms[0].Recipients) != 1 || ms[0].Recipients[0].Address != "c@servfail.test" ||
			!strings.Contains(ms[0].Recipients[0].LastError, "SERVFAIL") {
			t.Errorf("queue %+v", ms)
		}
	})
}

// No more connections than the Delivery Options allow are open at once.
func TestParallelConnectionCap(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) { m.dataDelay = 150 * time.Millisecond })
		q := e.queue(db)
		e.settings(q, func(s *queueadmin.Settings) { s.MaxConnections = 3 })
		for i := 0; i < 12; i++ {
			e.enqueue(q, e.submission("bob@remote.test"), message("parallel "+string(rune('a'+i))))
		}
		e.run(q)
		waitFor(t, "12 deliveries", func() bool { return e.mx.count() == 12 })
		e.mx.mu.Lock()
		maxActive := e.mx.maxActive
		e.mx.mu.Unlock()
		if maxActive > 3 || maxActive < 2 {
			t.Errorf("at most %d connections at once, want 2 or 3", maxActive)
		}
	})
}

// A failed forward goes back to its sender only: the postmaster gets no
// copy of other people's mail passing through.
func TestForwardDSNNoPostmasterCopy(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx.set(func(m *mxServer) {
			m.rcpt = func(addr string, n int) error { return noUser }
		})
		q := e.queue(db)
		env := e.submission("bob@remote.test")
		env.Kind, env.MailboxID = queue.KindForward, 0
		e.enqueue(q, env, message("forwarded"))
		e.run(q)
		waitFor(t, "DSN to sender", func() bool { return len(e.inbox("john")) == 1 })
		waitFor(t, "empty queue", func() bool { return len(e.queued(q)) == 0 })
		if n := len(e.inbox("pm")); n != 0 {
			t.Fatalf("postmaster got %d copies of a failed forward", n)
		}
	})
}
