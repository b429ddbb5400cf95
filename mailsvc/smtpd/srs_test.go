package smtpd_test

import (
	"strings"
	"testing"

	"github.com/postdesk/postdesk/mailsvc/delivery"
)

// TestSRSOnlyForBounces: an SRS address is reversed only for a bounce (the
// null sender) and only under the domain that issued it. Before, anyone
// could relay mail to any address through any hosted domain by writing to
// an SRS address; now such mail finds an unknown local part (550, or the
// domain's catchrest) and goes nowhere else.
func TestSRSOnlyForBounces(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		srs, err := delivery.LoadSRS(e.ctx, e.db, nil)
		tcheck(t, err, "srs")
		rfwd := e.ids["rfwd@example.test"]
		fwd := srs.Forward("victim", "remote.test", "example.test", rfwd)
		atC := srs.Forward("victim", "remote.test", "c.test", e.ids["catchrest@c.test"])
		long := srs.Forward(strings.Repeat("l", 40), "some.long.remote.test", "example.test", rfwd)
		local := func(a string) string { return a[:strings.LastIndexByte(a, '@')] }

		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<spammer@remote.test>", 250, "")
		c.expect("RCPT TO:<"+fwd+">", 550, "5.1.1")
		c.expect("RCPT TO:<"+long+">", 553, "5.1.3")
		// Issued for example.test, received at its alias domain: not ours.
		c.expect("RSET", 250, "")
		c.expect("MAIL FROM:<>", 250, "")
		c.expect("RCPT TO:<"+local(fwd)+"@alias.test>", 550, "5.1.1")
		c.expect("QUIT", 221, "")

		// Under a domain with a catchrest, the catchrest takes it like any
		// unknown local part: with a sender, and for a bounce when the
		// address was issued under another domain.
		tcheck(t, send(e.mx, "spammer@remote.test", []string{atC}, msg("spammer@remote.test", atC, "relay?", "")), "send to SRS at c.test")
		tcheck(t, send(e.mx, "", []string{local(fwd) + "@c.test"}, msg("mailer-daemon@remote.test", "x@c.test", "moved", "")), "bounce under another domain")
		if n := len(e.stored("catchrest@c.test")); n != 2 {
			t.Errorf("catchrest holds %d, want 2", n)
		}
		if fs := e.kinds(delivery.KindForward); len(fs) != 0 {
			t.Fatalf("relayed: %+v", fs)
		}

		// A bounce to an address issued here still goes back.
		tcheck(t, send(e.mx, "", []string{fwd}, msg("mailer-daemon@remote.test", fwd, "bounce", "")), "bounce")
		fs := e.kinds(delivery.KindForward)
		if len(fs) != 1 || fs[0].From != "" || len(fs[0].Rcpts) != 1 || fs[0].Rcpts[0] != "victim@remote.test" {
			t.Errorf("bounce not returned to the original sender: %+v", fs)
		}
	}, nil)
}
