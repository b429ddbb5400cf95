package smtpd_test

import (
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// hang takes every connection of the database's pool, so that all
// database work waits as if the database hung; the returned function
// gives them back (and is called at the latest after give, so that a
// server without deadlines answers late instead of never).
func (e *env) hang(give time.Duration) (release func()) {
	e.t.Helper()
	sqlDB, err := e.db.Read(e.ctx).DB()
	tcheck(e.t, err, "sql.DB")
	var conns []*sql.Conn
	for range sqlDB.Stats().MaxOpenConnections {
		c, err := sqlDB.Conn(e.ctx)
		tcheck(e.t, err, "take a connection")
		conns = append(conns, c)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, c := range conns {
				c.Close()
			}
		})
	}
	time.AfterFunc(give, release)
	e.t.Cleanup(release)
	return release
}

// TestDBTimeouts: when the database hangs, RCPT and DATA's delivery are
// answered 451 4.3.0 once their deadline passes, AUTH 454 4.7.0, instead
// of holding the session; it works again once the database answers.
func TestDBTimeouts(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<fwd@example.test>", 250, "")

		release := e.hang(5 * time.Second)
		c.expect("RCPT TO:<ann@example.test>", 451, "4.3.0")
		release()

		// fwd's forward to john is resolved in the delivery, before the
		// commit (which the store bounds itself, see DeliveryTimeout).
		c.expect("DATA", 354, "")
		release = e.hang(5 * time.Second)
		c.send(msg("a@remote.test", "fwd@example.test", "stuck", "") + ".\r\n")
		if code, text := c.read(); code != 451 || !strings.Contains(text, "4.3.0") {
			t.Fatalf("DATA while the database hangs: %q, want 451 4.3.0", text)
		}
		release()
		if n := len(e.stored("john@example.test")); n != 0 {
			t.Fatalf("john holds %d messages after a 451", n)
		}

		s := dialRaw(t, e.sub)
		s.expect("EHLO client.test", 250, "")
		s.starttls()
		s.expect("EHLO client.test", 250, "")
		release = e.hang(5 * time.Second)
		s.expect("AUTH PLAIN "+plain("john@example.test", pw), 454, "4.7.0")
		release()

		// Back to normal.
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<john@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send(msg("a@remote.test", "john@example.test", "later", "") + ".\r\n")
		if code, text := c.read(); code != 250 {
			t.Fatalf("after the database is back: %s", text)
		}
	}, func(c *smtpd.Config) {
		c.CommandTimeout, c.DeliveryTimeout = 300*time.Millisecond, 300*time.Millisecond
	})
}

// TestDataDeadlineClock: the whole-DATA deadline runs on the server's
// clock. A clock far behind the wall clock (a test's fixed clock) does not
// cut a transfer short; a clock that passes the deadline does.
func TestDataDeadlineClock(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		var at atomic.Int64
		at.Store(time.Now().Add(-48 * time.Hour).UnixNano())
		now := func() time.Time { return time.Unix(0, at.Load()) }
		e := newEnvWith(t, db, envOptions{now: now, config: func(c *smtpd.Config) { c.DataTimeout = time.Hour }})
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<john@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send(msg("a@remote.test", "john@example.test", "on time", "") + ".\r\n")
		if code, text := c.read(); code != 250 {
			t.Fatalf("DATA with the server's clock two days behind: %q", text)
		}

		// The deadline is checked as the message is read, a buffer at a
		// time: the clock moves past it between two buffers.
		chunk := strings.Repeat(strings.Repeat("x", 98)+"\r\n", 1000) // 100 KB
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<john@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send("Subject: slow\r\n\r\n" + chunk)
		time.Sleep(200 * time.Millisecond)
		at.Add(int64(2 * time.Hour))
		// The server stops reading at the deadline and may close while
		// this is still being written: write errors don't matter.
		go c.conn.Write([]byte(chunk + chunk + ".\r\n"))
		if code, text := c.read(); code/100 != 4 {
			t.Fatalf("DATA past its deadline on the server's clock: %q, want a 4xx", text)
		}
	})
}
