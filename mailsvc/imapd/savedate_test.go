package imapd_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

// SAVEDATE (RFC 8514): when a message was saved in its folder, by
// APPEND (whatever date it gave), delivery or COPY; for rows saved before
// save dates were kept, their internal date. imaptest has no script for
// it.
func TestSaveDate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.deliver(e.john, "", msgPlain)
		r := e.raw(true)
		r.login("john@example.test")
		if caps := r.expect("c", "CAPABILITY", "OK"); !hasLine(caps, " SAVEDATE") {
			t.Fatalf("SAVEDATE not announced: %q", caps)
		}
		msg := "Subject: old\r\n\r\nold\r\n"
		r.send("a APPEND INBOX \"01-Jan-2001 10:00:00 +0000\" {" + strconv.Itoa(len(msg)) + "+}\r\n" + msg + "\r\n")
		if _, done := r.until("a"); !strings.HasPrefix(done, "a OK") {
			t.Fatalf("APPEND: %q", done)
		}
		r.expect("s", "SELECT INBOX", "OK")
		today := time.Now().UTC()
		lines := r.expect("f", "FETCH 1:2 (SAVEDATE INTERNALDATE)", "OK")
		for _, l := range lines {
			if strings.Contains(l, "FETCH") && !strings.Contains(l, "SAVEDATE \""+today.Format("_2-Jan-2006")) {
				t.Errorf("SAVEDATE not today: %q", l)
			}
		}
		if !hasLine(lines, `INTERNALDATE " 1-Jan-2001 10:00:00 +0000"`) {
			t.Fatalf("INTERNALDATE: %q", lines)
		}
		day := func(d time.Time) string { return d.Format("2-Jan-2006") }
		for _, c := range []struct{ q, want string }{
			{"SAVEDON " + day(today), "* SEARCH 1 2"},
			{"SAVEDSINCE " + day(today.AddDate(0, 0, 1)), "* SEARCH"},
			{"SAVEDBEFORE " + day(today.AddDate(0, 0, 1)), "* SEARCH 1 2"},
			{"SAVEDBEFORE " + day(today), "* SEARCH"},
			{"SAVEDATESUPPORTED", "* SEARCH 1 2"},
			{"BEFORE 1-Jan-2002", "* SEARCH 2"},
		} {
			lines := r.expect("q", "SEARCH "+c.q, "OK")
			if len(lines) != 1 || lines[0] != c.want {
				t.Errorf("SEARCH %s: %q, want %q", c.q, lines, c.want)
			}
		}

		// A row from before save dates were kept: its internal date.
		tcheck(t, e.st.DB().Write(context.Background(), func(tx *gorm.DB) error {
			return tx.Exec("UPDATE mail_messages SET save_date = NULL WHERE uid = 2").Error
		}), "clear save date")
		lines = r.expect("f", "FETCH 2 (SAVEDATE)", "OK")
		if !hasLine(lines, `SAVEDATE " 1-Jan-2001 10:00:00 +0000"`) {
			t.Fatalf("SAVEDATE of an old row: %q", lines)
		}
		if lines := r.expect("q", "SEARCH SAVEDON 1-Jan-2001", "OK"); len(lines) != 1 || lines[0] != "* SEARCH 2" {
			t.Fatalf("SEARCH SAVEDON of an old row: %q", lines)
		}
		// A copy is saved now.
		r.expect("c", "COPY 2 Trash", "OK")
		r.expect("e", "EXAMINE Trash", "OK")
		if lines := r.expect("q", "SEARCH SAVEDON "+day(today), "OK"); len(lines) != 1 || lines[0] != "* SEARCH 1" {
			t.Fatalf("SEARCH SAVEDON of a copy: %q", lines)
		}
	})
}
