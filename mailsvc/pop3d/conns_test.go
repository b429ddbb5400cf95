package pop3d_test

import (
	"testing"

	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestConnectionCaps: past the per-address cap (POP3 and POP3S together)
// and past the total, a connection gets -ERR [SYS/TEMP] (RFC 3206)
// instead of the greeting, over TLS on the implicit TLS port, and is
// closed; a closed connection frees its place. The caps do not touch the
// database, so one engine will do.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *pop3d.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 3, 2 // as mailtest.TwoPortCaps wants
	})
	e.deliver("", msg1)
	c, r := mailtest.TwoPortCaps{
		Plain: "POP3", Implicit: "POP3S",
		Addr: e.addr, TLSAddr: e.tlsAddr, TLS: e.clientTLS,
		Greeting: "+OK",
		PerIP:    "-ERR [SYS/TEMP] Too many connections from your address, try again later",
		Total:    "-ERR [SYS/TEMP] Too many connections, try again later",
	}.Check(t)
	p := &conn{t: t, c: c, r: r}
	p.login()
	p.cmd("STAT", "+OK 1 ")
}
