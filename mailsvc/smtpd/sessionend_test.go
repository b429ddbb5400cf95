package smtpd_test

import (
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSubmissionEndsWithLogin: an open, authenticated submission session
// ends (the connection closes; MAIL can't follow) once a check of the
// session watch finds its mailbox disabled or its password changed,
// through another tenants service on the database as from another
// process.
func TestSubmissionEndsWithLogin(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		var w *tenants.SessionWatch
		e := newEnvWith(t, db, envOptions{sessions: func(ts *tenants.Service) *tenants.SessionWatch {
			w = ts.NewSessionWatch()
			return w
		}})
		john := e.submitClient(t, "john@example.test")
		ann := e.submitClient(t, "ann@example.test")
		other := tenantstest.Service(db, nil)
		_, err := other.UpdateMailbox(e.ctx, sys, addr("john@example.test"), tenants.MailboxUpdate{Active: ptrTo(false)})
		tcheck(t, err, "disable")
		_, err = other.UpdateMailbox(e.ctx, sys, addr("ann@example.test"), tenants.MailboxUpdate{Password: ptrTo("N3w#pass-word-ann")})
		tcheck(t, err, "password")
		tcheck(t, john.Noop(), "noop before the check")
		tcheck(t, w.Check(e.ctx), "check")
		if err := john.Mail("john@example.test", nil); err == nil {
			t.Error("john's MAIL accepted after his mailbox was disabled")
		}
		if err := ann.Mail("ann@example.test", nil); err == nil {
			t.Error("ann's MAIL accepted after her password changed")
		}
		if w.Open() != 0 {
			t.Errorf("%d sessions still watched", w.Open())
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
