package imapd_test

import (
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSessionEndsWithLogin: an open IMAP session ends (BYE, connection
// closed) when its mailbox is disabled or its password changed, through
// another tenants service on the database as from another process, at
// the session watch's next check (its interval shortened here); other
// sessions go on.
func TestSessionEndsWithLogin(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		var w *tenants.SessionWatch
		e := newEnv(t, db, func(cfg *imapd.Config) {
			w = cfg.Tenants.NewSessionWatch()
			w.Interval = 20 * time.Millisecond
			cfg.Sessions = w
		})
		go w.Run(t.Context())
		john := e.client("john@example.test", nil)
		ann := e.client("ann@example.test", nil)
		for _, c := range []*imapclient.Client{john, ann} {
			_, err := c.Select("INBOX", nil).Wait()
			tcheck(t, err, "select")
		}
		other := tenantstest.Service(db, nil)
		sc := tenants.SystemScope("test")
		closed := func(c *imapclient.Client, who string) {
			t.Helper()
			select {
			case <-c.Closed():
			case <-time.After(10 * time.Second):
				t.Fatalf("%s's session still open", who)
			}
			if _, err := c.Search(&imap.SearchCriteria{}, nil).Wait(); err == nil {
				t.Fatalf("%s's SEARCH worked after the session ended", who)
			}
			if err := c.Create("New", nil).Wait(); err == nil {
				t.Fatalf("%s's CREATE worked after the session ended", who)
			}
		}

		a, _ := address.ParseAddress("john@example.test")
		_, err := other.UpdateMailbox(t.Context(), sc, a, tenants.MailboxUpdate{Active: ptr(false)})
		tcheck(t, err, "disable")
		closed(john, "john")
		if _, err := ann.Search(&imap.SearchCriteria{}, nil).Wait(); err != nil {
			t.Fatalf("ann's session ended with john's: %v", err)
		}

		a, _ = address.ParseAddress("ann@example.test")
		_, err = other.UpdateMailbox(t.Context(), sc, a, tenants.MailboxUpdate{Password: ptr("N3w#pass-word-ann")})
		tcheck(t, err, "password")
		closed(ann, "ann")
	})
}

func ptr[T any](v T) *T { return &v }
