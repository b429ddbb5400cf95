package pop3d_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSessionEndsWithLogin: an open POP3 session ends (the connection
// closes, nothing deleted) when its mailbox is disabled or its password
// changed, through another tenants service on the database as from
// another process, at the session watch's next check (its interval
// shortened here); other sessions go on.
func TestSessionEndsWithLogin(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		var w *tenants.SessionWatch
		e := newEnv(t, db, func(cfg *pop3d.Config) {
			w = cfg.Tenants.NewSessionWatch()
			w.Interval = 20 * time.Millisecond
			cfg.Sessions = w
		})
		go w.Run(t.Context())
		e.deliver("", msg1)
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		d, _ := address.ParseDomain("example.test")
		ann := address.Address{Local: "ann", Domain: d}
		_, err := e.ts.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: ann, Password: password, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox")

		pj, pa := e.dial(true), e.dial(true)
		pj.cmd("USER john@example.test", "+OK")
		pj.cmd("PASS "+password, "+OK")
		pj.cmd("DELE 1", "+OK")
		pa.cmd("USER ann@example.test", "+OK")
		pa.cmd("PASS "+password, "+OK")

		closed := func(p *conn, who string) {
			t.Helper()
			p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := p.r.ReadString('\n')
			if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("%s's session still open: %v", who, err)
			}
		}
		other := tenantstest.Service(db, nil)
		john := address.Address{Local: "john", Domain: d}
		_, err = other.UpdateMailbox(ctx, sc, john, tenants.MailboxUpdate{Active: ptr(false)})
		tcheck(t, err, "disable")
		closed(pj, "john")
		pa.cmd("STAT", "+OK")
		// The DELE of the ended session took no effect.
		inbox, err := e.st.Folder(ctx, e.john, "INBOX")
		tcheck(t, err, "inbox")
		st, err := e.st.FolderStatus(ctx, inbox)
		tcheck(t, err, "status")
		if st.Messages != 1 {
			t.Errorf("john's INBOX has %d messages, want 1", st.Messages)
		}

		_, err = other.UpdateMailbox(ctx, sc, ann, tenants.MailboxUpdate{Password: ptr("N3w#pass-word-ann")})
		tcheck(t, err, "password")
		closed(pa, "ann")
	})
}

func ptr[T any](v T) *T { return &v }
