package smtpd_test

import (
	"io"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// TestPostmasterStaysInTenant: mail over the MX to postmaster@ and abuse@
// of b.test, which names no postmaster, never lands in a.test's, the
// oldest domain with one (where it went); it reaches b.test's catchrest,
// else the system postmaster an administrator named, else the system
// mailbox. <Postmaster> without a domain, in any case, is accepted (RFC
// 5321 4.5.1) and reaches the system postmaster, else the system mailbox.
func TestPostmasterStaysInTenant(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		// No domain of the fixtures names a postmaster: a.test is the
		// oldest domain with one.
		for _, d := range []string{"a.test", "b.test"} {
			_, err := e.ten.CreateDomain(e.ctx, sys, address.Domain(d), "")
			tcheck(t, err, "domain "+d)
		}
		e.mailbox("pm@a.test", nil)
		e.mailbox("bob@b.test", nil)
		e.mailbox("rest@b.test", nil)
		pm := addr("pm@a.test")
		_, err := e.ten.UpdateDomain(e.ctx, sys, "a.test", tenants.DomainUpdate{Postmaster: &pm})
		tcheck(t, err, "a.test postmaster")
		tcheck(t, e.ten.SetSystemPostmaster(e.ctx, sys, address.Address{}), "clear system postmaster")

		system := func() []string {
			t.Helper()
			ms, _, err := e.st.SystemMessages(e.ctx, sys, 100, 0)
			tcheck(t, err, "system mailbox")
			var out []string
			for _, m := range ms {
				_, r, err := e.st.SystemMessage(e.ctx, sys, m.ID)
				tcheck(t, err, "open system message")
				b, err := io.ReadAll(r)
				r.Close()
				tcheck(t, err, "read system message")
				out = append(out, string(b))
			}
			return out
		}
		deliver := func(rcpt, subject string) {
			t.Helper()
			tcheck(t, send(e.mx, "reporter@remote.test", []string{rcpt}, msg("reporter@remote.test", rcpt, subject, "")), "send to "+rcpt)
		}
		counts := func(want map[string]int) {
			t.Helper()
			got := map[string]int{"pm@a.test": len(e.stored("pm@a.test")), "rest@b.test": len(e.stored("rest@b.test")),
				"john@example.test": len(e.stored("john@example.test")), "system": len(system())}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s holds %d messages, want %d (all: %v)", k, got[k], n, got)
				}
			}
		}

		// Nothing named: the system mailbox.
		deliver("postmaster@b.test", "to b postmaster")
		deliver("abuse@b.test", "to b abuse")
		deliver("Postmaster", "bare")
		deliver("POSTMASTER", "bare upper")
		counts(map[string]int{"pm@a.test": 0, "system": 4})
		got := strings.Join(system(), "\n")
		for _, s := range []string{"Delivered-To: postmaster@b.test\r\n", "Delivered-To: abuse@b.test\r\n", "Subject: bare upper"} {
			if !strings.Contains(got, s) {
				t.Errorf("the system mailbox lacks %q", s)
			}
		}

		// A system postmaster named: it takes both.
		tcheck(t, e.ten.SetSystemPostmaster(e.ctx, sys, addr("john@example.test")), "system postmaster")
		before := len(e.stored("john@example.test"))
		deliver("postmaster@b.test", "to b postmaster 2")
		deliver("postmaster", "bare 2")
		counts(map[string]int{"pm@a.test": 0, "system": 4, "john@example.test": before + 2})

		// b.test's catchrest: it comes before the system postmaster.
		tcheck(t, e.ten.AddAlias(e.ctx, sys, addr("catchrest@b.test"), addr("rest@b.test")), "catchrest")
		deliver("abuse@b.test", "to b abuse 3")
		counts(map[string]int{"pm@a.test": 0, "rest@b.test": 1, "system": 4, "john@example.test": before + 2})

		// a.test's own postmaster mail still reaches pm@a.test.
		deliver("postmaster@a.test", "to a")
		counts(map[string]int{"pm@a.test": 1})
	}, nil)
}
