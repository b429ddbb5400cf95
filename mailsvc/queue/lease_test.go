package queue_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/migrations"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Two queue processes on one PostgreSQL database, each with its own
// connection pool, share the work and never send a message twice.
func TestTwoQueuesOnePostgres(t *testing.T) {
	url := tenantstest.PostgresURL(t)
	ctx := context.Background()
	open := func() *database.DB {
		db, err := database.Open(ctx, database.Config{URL: url})
		tcheck(t, err, "open")
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1, db2 := open(), open()
	_, err := migrations.Apply(ctx, db1)
	tcheck(t, err, "migrate")
	e := newEnv(t, db1)
	e.mx.set(func(m *mxServer) { m.dataDelay = 20 * time.Millisecond })
	q1 := e.queue(db1)
	// The second process: its own database handle, store and tenants on
	// the shared blob folder.
	blobs, ok := e.st.Blobs().(*blob.Files)
	if !ok {
		t.Fatal("blob store is not files")
	}
	st2 := store.New(db2, blobs, store.Options{BlobRefs: []string{queue.BlobTable}})
	ts2 := tenantstest.Service(db2, e.clock.Now)
	q2, err := queue.New(db2, st2, ts2, &storeLocal{ts: ts2, st: st2}, queue.Options{
		Hostname: "mail2.local.test", Logger: slog.New(slog.NewTextHandler(e.log, nil)).With("process", 2), Now: e.clock.Now,
		DNSServer: e.dns.addr, RemotePort: e.mx.port, PollInterval: 30 * time.Millisecond, LeaseDuration: 3 * time.Second,
	})
	tcheck(t, err, "second queue")

	const n = 40
	for i := 0; i < n; i++ {
		e.enqueue(q1, e.submission("bob@remote.test"), message(fmt.Sprintf("shared %d", i)))
	}
	e.run(q1)
	e.run(q2)
	waitFor(t, "all deliveries", func() bool { return e.mx.count() >= n && len(e.queued(q1)) == 0 })
	time.Sleep(200 * time.Millisecond)
	seen := map[string]int{}
	for _, m := range e.mx.received() {
		i := strings.Index(m.Data, "Subject: ")
		seen[m.Data[i:i+strings.Index(m.Data[i:], "\r\n")]]++
	}
	if len(seen) != n || e.mx.count() != n {
		t.Fatalf("%d messages received, %d distinct, want %d each", e.mx.count(), len(seen), n)
	}
	for s, c := range seen {
		if c != 1 {
			t.Errorf("%s sent %d times", s, c)
		}
	}
	by2 := strings.Count(e.log.String(), "msg=delivery process=2")
	t.Logf("the second process delivered %d of %d", by2, n)
}

// The queue survives a restart: an attempt stopped mid-way hands its
// message back without counting it, and the next instance delivers it
// once; a message leased by a process that died is taken over when its
// lease runs out, and not before.
func TestRestart(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		hold := make(chan struct{})
		inRcpt := make(chan struct{}, 1)
		e.mx.set(func(m *mxServer) {
			m.rcpt = func(addr string, n int) error {
				if n == 1 {
					inRcpt <- struct{}{}
					<-hold
				}
				return nil
			}
		})
		q1 := e.queue(db)
		e.enqueue(q1, e.submission("bob@remote.test"), message("restart"))
		stop1 := e.run(q1)
		<-inRcpt
		if ms := e.queued(q1); len(ms) != 1 || !ms[0].Sending {
			t.Fatalf("message not shown as sending: %+v", ms)
		}
		stop1() // returns once the attempt has stopped
		close(hold)
		ms := e.queued(q1)
		if len(ms) != 1 || ms[0].Sending || ms[0].Recipients[0].Attempts != 0 {
			t.Fatalf("after stop: %+v", ms)
		}
		q2 := e.queue(db)
		stop2 := e.run(q2)
		waitFor(t, "delivery after restart", func() bool { return e.mx.count() == 1 && len(e.queued(q2)) == 0 })
		stop2()

		// A process that died holding a lease: nobody else sends the
		// message until the lease runs out.
		e.enqueue(q2, e.submission("bob@remote.test"), message("orphan"))
		tcheck(t, db.Write(e.ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE queue_messages SET lease_owner = 'dead.1', lease_until = ?", e.clock.Now().Add(time.Hour)).Error
		}), "fake a dead lease")
		q3 := e.queue(db)
		e.run(q3)
		time.Sleep(200 * time.Millisecond)
		if e.mx.count() != 1 {
			t.Fatalf("a leased message was sent")
		}
		e.clock.Advance(time.Hour + time.Second)
		q3.Kick()
		waitFor(t, "delivery after the lease ran out", func() bool { return e.mx.count() == 2 && len(e.queued(q3)) == 0 })
	})
}
