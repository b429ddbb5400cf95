package imapd_test

import (
	"testing"

	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestConnectionCaps: past the per-address cap (IMAP and IMAPS together)
// and past the total, a connection gets BYE [UNAVAILABLE] (RFC 9051
// 7.1.5, RFC 5530 3) instead of the greeting, over TLS on the implicit
// TLS port, and is closed; a closed connection frees its place. The caps
// do not touch the database, so one engine will do.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), func(c *imapd.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 3, 2 // as mailtest.TwoPortCaps wants
	})
	c, br := mailtest.TwoPortCaps{
		Plain: "IMAP", Implicit: "IMAPS",
		Addr: e.addr, TLSAddr: e.tlsAddr, TLS: e.clientTLS,
		Greeting: "* OK",
		PerIP:    "* BYE [UNAVAILABLE] Too many connections from your address, try again later",
		Total:    "* BYE [UNAVAILABLE] Too many connections, try again later",
	}.Check(t)
	r := &raw{t: t, conn: c, r: br}
	r.login("john@example.test")
	r.expect("s", "SELECT INBOX", "OK")
}
