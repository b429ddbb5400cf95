package imapd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Tests in package imapd drive a Session's methods directly, without a
// connection: the unit tests of what a client cannot reach through the
// wire (number sets longer than a command line may be, queue limits).
// The protocol tests are in package imapd_test.

// itest is a server on a fresh database with one mailbox,
// john@example.test, that is not listening.
type itest struct {
	tb      testing.TB
	srv     *Server
	st      *store.Store
	mailbox int64
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newITest(tb testing.TB, db *database.DB) *itest {
	tb.Helper()
	ctx := context.Background()
	ts := tenantstest.Service(db, nil)
	sc := tenants.SystemScope("test")
	d, _ := address.ParseDomain("example.test")
	if _, err := ts.CreateDomain(ctx, sc, d, ""); err != nil {
		tb.Fatalf("create domain: %v", err)
	}
	m, err := ts.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: address.Address{Local: "john", Domain: d},
		Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()})
	if err != nil {
		tb.Fatalf("create mailbox: %v", err)
	}
	bs, err := blob.NewFiles(tb.TempDir())
	if err != nil {
		tb.Fatalf("blob store: %v", err)
	}
	st := store.New(db, bs, store.Options{})
	if err := st.EnsureFolders(ctx, m.ID); err != nil {
		tb.Fatalf("make folders: %v", err)
	}
	log := slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := New(Config{Store: st, Tenants: ts, Logger: log})
	if err != nil {
		tb.Fatalf("new server: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &itest{tb: tb, srv: srv, st: st, mailbox: m.ID}
}

// session returns a logged-in session with INBOX selected.
func (it *itest) session() *Session {
	it.tb.Helper()
	s := newSession(it.srv, &connState{}, it.srv.log)
	s.mailboxID, s.user = it.mailbox, "john@example.test"
	it.tb.Cleanup(func() { s.Close() })
	if _, err := s.Select("INBOX", &imap.SelectOptions{}); err != nil {
		it.tb.Fatalf("select: %v", err)
	}
	return s
}

// fill puts n messages into INBOX, 500 to a delivery; message i (from 0)
// has an X-Seq header of i+1 and the flags flags(i) gives.
func (it *itest) fill(n int, flags func(i int) store.Flags) {
	it.tb.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 500 {
		p, err := it.st.Blobs().Create(ctx)
		if err != nil {
			it.tb.Fatalf("create blob: %v", err)
		}
		io.WriteString(p, "From: Ann <ann@example.test>\r\nSubject: Hello\r\n\r\nHello John.\r\n")
		var rcpts []store.Rcpt
		for i := start; i < min(n, start+500); i++ {
			r := store.Rcpt{MailboxID: it.mailbox, Prefix: fmt.Sprintf("X-Seq: %d\r\n", i+1)}
			if flags != nil {
				r.Flags = flags(i)
			}
			rcpts = append(rcpts, r)
		}
		if _, err := it.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: rcpts}); err != nil {
			it.tb.Fatalf("deliver: %v", err)
		}
	}
}
