package queue_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Mail goes to a route's host for its domain and to the smart host for the
// rest, each with its own SMTP AUTH credentials, only over TLS with a
// verified certificate. Passwords are stored sealed, never returned and
// never logged; a wrong one defers mail instead of returning it.
func TestRoutesAndSmartHost(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		leaf := e.ca.leaf(t)
		smart := newMX(t, "127.0.0.1", 0, &leaf)
		smart.set(func(m *mxServer) { m.users = map[string]string{"smartuser": "smart-secret-1"} })
		routed := newMX(t, "127.0.0.1", 0, &leaf)
		routed.set(func(m *mxServer) { m.users = map[string]string{"routeuser": "route-secret-2"} })
		q := e.queue(db)
		e.settings(q, func(s *queueadmin.Settings) {
			s.SmartHost = queueadmin.Relay{Host: "127.0.0.1", Port: smart.port, Username: "smartuser", Password: "smart-secret-1"}
			s.SmartHostDelay = 100 * time.Millisecond
		})
		tcheck(t, q.SetRoute(e.ctx, e.sys, queueadmin.Route{Domain: "Routed.TEST",
			Relay: queueadmin.Relay{Host: "127.0.0.1", Port: routed.port, Username: "routeuser", Password: "route-secret-2"}}), "set route")

		start := time.Now()
		e.enqueue(q, e.submission("bob@remote.test", "dan@routed.test"), message("relayed"))
		e.run(q)
		waitFor(t, "relay deliveries", func() bool { return smart.count() == 1 && routed.count() == 1 })
		if time.Since(start) < 100*time.Millisecond {
			t.Errorf("smart host reached before its delay")
		}
		if m := smart.received()[0]; m.AuthUser != "smartuser" || !m.TLS || strings.Join(m.Rcpts, ",") != "bob@remote.test" {
			t.Errorf("smart host got %+v", m)
		}
		if m := routed.received()[0]; m.AuthUser != "routeuser" || !m.TLS || strings.Join(m.Rcpts, ",") != "dan@routed.test" {
			t.Errorf("route host got %+v", m)
		}
		if e.mx.count() != 0 {
			t.Errorf("the MX was used despite the smart host")
		}

		opts, err := q.DeliveryOptions(e.ctx, e.sys)
		tcheck(t, err, "read options")
		if opts.SmartHost.Password != "" || !opts.SmartHost.HasPassword || opts.SmartHost.Username != "smartuser" {
			t.Errorf("smart host as read back %+v", opts.SmartHost)
		}
		routes, err := q.Routes(e.ctx, e.sys)
		tcheck(t, err, "routes")
		if len(routes) != 1 || routes[0].Domain != "routed.test" || routes[0].Password != "" || !routes[0].HasPassword {
			t.Errorf("routes %+v", routes)
		}
		var stored []string
		tcheck(t, db.Read(e.ctx).Raw("SELECT value FROM queue_settings UNION ALL SELECT password_enc FROM queue_routes").Scan(&stored).Error, "read stored")
		for _, v := range append(stored, e.log.String()) {
			if strings.Contains(v, "smart-secret-1") || strings.Contains(v, "route-secret-2") {
				t.Fatalf("a password is stored or logged in the clear")
			}
		}

		// Saving the options without a password keeps the stored one.
		e.settings(q, func(s *queueadmin.Settings) { s.MaxConnections = 5; s.SmartHostDelay = 0 })
		e.enqueue(q, e.submission("bob@remote.test"), message("again"))
		waitFor(t, "second delivery", func() bool { return smart.count() == 2 })

		// A wrong password is for the administrator to fix: the mail waits.
		tcheck(t, q.SetRoute(e.ctx, e.sys, queueadmin.Route{Domain: "routed.test",
			Relay: queueadmin.Relay{Host: "127.0.0.1", Port: routed.port, Username: "routeuser", Password: "wrong"}}), "set route")
		e.enqueue(q, e.submission("dan@routed.test"), message("bad login"))
		waitFor(t, "deferral", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && ms[0].Recipients[0].Attempts == 1
		})
		if r := e.queued(q)[0].Recipients[0]; !strings.Contains(r.LastError, "authentication failed") {
			t.Errorf("last error %q", r.LastError)
		}
		if len(e.inbox("john")) != 0 {
			t.Errorf("a failed login returned the mail")
		}
		tcheck(t, q.DeleteRoute(e.ctx, e.sys, "routed.test"), "delete route")
		if routes, _ := q.Routes(e.ctx, e.sys); len(routes) != 0 {
			t.Errorf("route not deleted")
		}
	})
}

// A relay that would get credentials but offers no TLS never sees them.
func TestCredentialsNeedTLS(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		plain := newMX(t, "127.0.0.1", 0, nil)
		plain.srv.TLSConfig = nil
		plain.set(func(m *mxServer) { m.users = map[string]string{"u": "p"} })
		q := e.queue(db)
		e.settings(q, func(s *queueadmin.Settings) {
			s.SmartHost = queueadmin.Relay{Host: "127.0.0.1", Port: plain.port, Username: "u", Password: "secret-password"}
		})
		e.enqueue(q, e.submission("bob@remote.test"), message("no tls"))
		e.run(q)
		waitFor(t, "deferral", func() bool {
			ms := e.queued(q)
			return len(ms) == 1 && ms[0].Recipients[0].Attempts == 1
		})
		if r := e.queued(q)[0].Recipients[0]; !strings.Contains(r.LastError, "offers no TLS") {
			t.Errorf("last error %q", r.LastError)
		}
		if plain.count() != 0 {
			t.Errorf("delivered without TLS")
		}
	})
}

// A route may speak TLS from the first byte (port 465 style).
func TestImplicitTLSRoute(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		relay := newImplicitTLSMX(t, e.ca.leaf(t))
		relay.set(func(m *mxServer) { m.users = map[string]string{"u465": "pw-465-secret"} })
		q := e.queue(db)
		tcheck(t, q.SetRoute(e.ctx, e.sys, queueadmin.Route{Domain: "remote.test",
			Relay: queueadmin.Relay{Host: "127.0.0.1", Port: relay.port, ImplicitTLS: true, Username: "u465", Password: "pw-465-secret"}}), "set route")
		e.enqueue(q, e.submission("bob@remote.test"), message("implicit"))
		e.run(q)
		waitFor(t, "delivery", func() bool { return relay.count() == 1 && len(e.queued(q)) == 0 })
		if m := relay.received()[0]; !m.TLS || m.AuthUser != "u465" {
			t.Errorf("relay got %+v", m)
		}
	})
}

// Opportunistic TLS: when an MX offers STARTTLS but the handshake fails,
// the message goes in plain text rather than waiting forever.
func TestTLSHandshakeFallback(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.mx = newMX(t, "127.0.0.1", 0, &tls.Certificate{}) // an empty certificate: every handshake fails
		q := e.queue(db)
		e.enqueue(q, e.submission("bob@remote.test"), message("plain"))
		e.run(q)
		waitFor(t, "delivery", func() bool { return e.mx.count() == 1 && len(e.queued(q)) == 0 })
		if m := e.mx.received()[0]; m.TLS {
			t.Errorf("TLS on after a failed handshake?")
		}
		if !strings.Contains(e.log.String(), "TLS handshake failed; trying without TLS") {
			t.Errorf("fallback not logged")
		}
	})
}
