package delivery_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const pw = "Xk9#mq2!pLw7z"

var sys = tenants.SystemScope("test")

// fx is delivery over a real tenants service, message store and outbound
// queue (not run: queued mail stays in its tables), with SRS and send
// limits, on one database engine. Domain example.test is hosted.
type fx struct {
	t   *testing.T
	ctx context.Context
	db  *database.DB
	ten *tenants.Service
	st  *store.Store
	d   *delivery.Deliverer
	ids map[string]int64
}

type tLog struct{ t testing.TB }

func (w tLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newFx(t *testing.T, db *database.DB, limits delivery.RateLimits) *fx {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := &fx{t: t, ctx: ctx, db: db, ten: tenantstest.Service(db, nil), ids: map[string]int64{}}
	files, err := blob.NewFiles(t.TempDir())
	tcheck(t, err, "blobs")
	f.st = store.New(db, files, store.Options{Logger: log, BlobRefs: []string{queue.BlobTable}})
	srs, err := delivery.LoadSRS(ctx, db, nil)
	tcheck(t, err, "srs")
	outbox := queue.NewOutbox(nil)
	f.d = delivery.New(delivery.Options{Tenants: f.ten, Store: f.st, Queue: outbox, SRS: srs, Limits: limits,
		Hostname: "mx.test", Logger: log})
	_, err = f.ten.CreateDomain(ctx, sys, "example.test", "")
	tcheck(t, err, "domain")
	return f
}

// mailbox makes a mailbox with the default settings, changed by mod.
func (f *fx) mailbox(a string, mod func(*tenants.MailboxSettings)) {
	f.t.Helper()
	s := tenants.DefaultMailboxSettings()
	if mod != nil {
		mod(&s)
	}
	m, err := f.ten.CreateMailbox(f.ctx, sys, tenants.NewMailbox{Address: addr(a), Password: pw, Settings: s})
	tcheck(f.t, err, "mailbox "+a)
	f.ids[a] = m.ID
}

func (f *fx) forwards(a string, store bool, to ...string) {
	f.t.Helper()
	var as []address.Address
	for _, s := range to {
		as = append(as, addr(s))
	}
	tcheck(f.t, f.ten.SetForwards(f.ctx, sys, addr(a), as, store), "forwards of "+a)
}

// fill puts a message of 2000 bytes into a mailbox, past a 1 KiB quota.
func (f *fx) fill(a string) {
	f.t.Helper()
	q := int64(1024)
	_, err := f.ten.UpdateMailbox(f.ctx, sys, addr(a), tenants.MailboxUpdate{QuotaBytes: &q})
	tcheck(f.t, err, "quota")
	tcheck(f.t, f.st.EnsureFolders(f.ctx, f.ids[a]), "folders")
	_, _, err = f.st.Append(f.ctx, f.ids[a], "INBOX", 0, strings.NewReader("Subject: big\r\n\r\n"+strings.Repeat("x", 2000)+"\r\n"), 1<<20, nil, time.Now())
	tcheck(f.t, err, "fill")
}

// deliver delivers a message as the MX does: every recipient resolved for
// the sender, then one delivery.
func (f *fx) deliver(from string, rcpts []string, body string) (*delivery.Result, error) {
	f.t.Helper()
	fp, err := address.ParseReversePath(from)
	tcheck(f.t, err, "sender")
	var rs []delivery.Recipient
	for _, r := range rcpts {
		p, err := address.ParseForwardPath(r)
		tcheck(f.t, err, "recipient")
		rc, err := f.d.Resolve(f.ctx, fp, p)
		if err != nil && (rc.Remote.IsZero() || rc.Plan != nil) {
			return nil, err
		}
		rs = append(rs, rc)
	}
	b, err := f.st.Blobs().Create(f.ctx)
	tcheck(f.t, err, "blob")
	_, err = io.WriteString(b, body)
	tcheck(f.t, err, "write blob")
	return f.d.Deliver(f.ctx, &delivery.Message{From: fp, Blob: b, Rcpts: rs})
}

// count is the number of messages a mailbox holds.
func (f *fx) count(a string) int64 {
	f.t.Helper()
	_, n, err := f.st.Usage(f.ctx, f.ids[a])
	tcheck(f.t, err, "usage")
	return n
}

type queuedMsg struct {
	From, Kind string
	Rcpts      []string
}

// queued returns the queue's messages.
func (f *fx) queued() []queuedMsg {
	f.t.Helper()
	var rows []struct {
		ID       int64
		MailFrom string
		Kind     string
	}
	tcheck(f.t, f.db.Read(f.ctx).Table("queue_messages").Order("id").Find(&rows).Error, "queue rows")
	var out []queuedMsg
	for _, r := range rows {
		var rcpts []string
		tcheck(f.t, f.db.Read(f.ctx).Table("queue_recipients").Where("message_id = ?", r.ID).Order("rcpt").Pluck("rcpt", &rcpts).Error, "queue rcpts")
		out = append(out, queuedMsg{From: r.MailFrom, Kind: r.Kind, Rcpts: rcpts})
	}
	return out
}

// queuedRcpts counts the recipients queued, of messages of a kind.
func (f *fx) queuedRcpts(kind string) int {
	n := 0
	for _, q := range f.queued() {
		if q.Kind == kind {
			n += len(q.Rcpts)
		}
	}
	return n
}

// audits counts the audit entries of an action by an actor.
func (f *fx) audits(action, actor string) int64 {
	f.t.Helper()
	var n int64
	tcheck(f.t, f.db.Read(f.ctx).Model(&tenants.AuditEntry{}).Where("action = ? AND actor = ?", action, actor).Count(&n).Error, "audit")
	return n
}

func msg(from, to, subject, extra string) string {
	return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\nMessage-ID: <" +
		strconv.FormatInt(time.Now().UnixNano(), 36) + "@client.test>\r\n" + extra + "\r\nHello " + subject + "\r\n"
}
