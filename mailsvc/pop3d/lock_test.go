package pop3d_test

import (
	"bufio"
	"context"
	"hash/fnv"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// second starts another server on e's database, as another process would
// run beside e's, and returns its plain listener's address.
func (e *env) second(t *testing.T) string {
	t.Helper()
	srv, err := pop3d.New(pop3d.Config{Store: e.st, Tenants: e.ts, AllowPlaintextAuth: true,
		Logger: slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	tcheck(t, err, "second server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "listen")
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func dialPlain(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	tcheck(t, err, "dial")
	t.Cleanup(func() { c.Close() })
	p := &conn{t: t, c: c, r: bufio.NewReader(c)}
	if g := p.line(); !strings.HasPrefix(g, "+OK") {
		t.Fatalf("greeting %q", g)
	}
	return p
}

// TestLockAcrossServers: a mailbox open in a POP3 session of one server
// answers [IN-USE] to a session of another server on the same database
// (another process), on both engines, and is free again once the first
// session ends.
func TestLockAcrossServers(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		e.deliver("", msg1)
		other := e.second(t)
		p := e.dial(true)
		p.login()
		q := dialPlain(t, other)
		q.cmd("USER john@example.test", "+OK")
		q.cmd("PASS "+password, "-ERR [IN-USE]")
		// And the other way round, on the same server twice.
		r := dialPlain(t, other)
		r.cmd("USER john@example.test", "+OK")
		r.cmd("PASS "+password, "-ERR [IN-USE]")
		p.cmd("QUIT", "+OK")
		q.login()
		q.cmd("STAT", "+OK 1 ")
		r.cmd("USER john@example.test", "+OK")
		r.cmd("PASS "+password, "-ERR [IN-USE]")
		p = e.dial(true)
		p.cmd("USER john@example.test", "+OK")
		p.cmd("PASS "+password, "-ERR [IN-USE]")
		q.cmd("QUIT", "+OK")
		p.login()
		p.cmd("STAT", "+OK 1 ")
	})
}

// TestLockGoesWithProcess: on PostgreSQL the lock is held by the holding
// process's own database connection. When that connection ends without
// unlocking, as when the process dies (here: the server ends the holder's
// backend, which is what PostgreSQL sees of a killed process), a session
// of another process gets the mailbox at once, not after a lease runs out.
func TestLockGoesWithProcess(t *testing.T) {
	db := tenantstest.Open(t, database.Postgres)
	e := newEnv(t, db, nil)
	e.deliver("", msg1)
	other := e.second(t)
	p := e.dial(true)
	p.login()
	q := dialPlain(t, other)
	q.cmd("USER john@example.test", "+OK")
	q.cmd("PASS "+password, "-ERR [IN-USE]")

	ctx := context.Background()
	var schema string
	tcheck(t, db.Read(ctx).Raw("SELECT current_schema()").Scan(&schema).Error, "schema")
	h := fnv.New32a()
	h.Write([]byte("postdesk pop3 " + schema))
	var pids []int
	tcheck(t, db.Read(ctx).Raw(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 2`, int64(h.Sum32()), e.john).Scan(&pids).Error, "find the holder")
	if len(pids) != 1 {
		t.Fatalf("%d holders of the mailbox's advisory lock, want 1", len(pids))
	}
	var ended bool
	tcheck(t, db.Read(ctx).Raw("SELECT pg_terminate_backend(?)", pids[0]).Scan(&ended).Error, "end the holder")
	if !ended {
		t.Fatal("the holder's backend was not ended")
	}
	// At once: the first try after the holder is gone.
	for deadline := time.Now().Add(5 * time.Second); ; {
		var n int
		tcheck(t, db.Read(ctx).Raw("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pids[0]).Scan(&n).Error, "holder gone")
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the holder's backend is still there")
		}
		time.Sleep(10 * time.Millisecond)
	}
	q.login()
	q.cmd("STAT", "+OK 1 ")
}
