package smtpd_test

import (
	"strings"
	"testing"
)

// TestHostedSenderFromOutside: mail at the MX whose envelope sender is one
// of our domains, from a client that has not authenticated, is taken but
// marked (an Authentication-Results field above our Received, which
// webmail reads), and when it is forwarded out it leaves with an SRS
// sender like any other: before, Postdesk sent it on as
// MAIL FROM:<john@example.test>, passing SPF and aligned for a domain
// whose user never sent it.
func TestHostedSenderFromOutside(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		remote := e.remote()
		const mark = "Authentication-Results: mx.test; auth=none"
		tcheck(t, send(e.mx, "john@example.test", []string{"rfwd@example.test"}, msg("john@example.test", "rfwd@example.test", "forged", "")), "send forged")
		got := remote.wait(t, 1)
		if f := got[0].From; !strings.HasPrefix(f, "SRS0=") || !strings.HasSuffix(f, "=example.test=john@example.test") {
			t.Errorf("forward of a hosted sender left with MAIL FROM:<%s>, want an SRS address", f)
		}
		if !strings.Contains(got[0].Data, mark) {
			t.Errorf("forwarded copy lacks the mark:\n%s", got[0].Data)
		}

		// Stored: the mark is above our Received header, naming the sender.
		tcheck(t, send(e.mx, "john@example.test", []string{"sales@example.test"}, msg("john@example.test", "sales@example.test", "forged-local", "")), "send forged local")
		// Not from one of our domains: no mark.
		tcheck(t, send(e.mx, "someone@remote.test", []string{"john@example.test"}, msg("someone@remote.test", "john@example.test", "outside", "")), "send outside")
		// Authenticated: no mark.
		c := e.submitClient(t, "ann@example.test")
		tcheck(t, sendOn(c, "ann@example.test", []string{"john@example.test"}, msg("ann@example.test", "john@example.test", "submitted", "")), "submit")
		c.Close()
		msgs := e.stored("john@example.test")
		if len(msgs) != 3 {
			t.Fatalf("john holds %d messages, want 3", len(msgs))
		}
		for _, m := range msgs {
			i, r := strings.Index(m, mark), strings.Index(m, "Received:")
			switch {
			case strings.Contains(m, "Subject: forged-local"):
				if i < 0 || i > r || !strings.Contains(m[i:r], "smtp.mailfrom=john@example.test") {
					t.Errorf("unauthenticated hosted sender not marked above Received:\n%s", m)
				}
			case i >= 0:
				t.Errorf("marked, but not from a hosted sender without authentication:\n%s", m)
			}
		}
	}, nil)
}
