package imapd_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// A body that can't be sent whole once its literal is announced ends the
// connection: nothing the server could write after it would be read as
// anything but literal data. Other connections go on.
func TestFetchBodyCutShort(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		dir := t.TempDir()
		files, err := blob.NewFiles(dir)
		tcheck(t, err, "blobs")
		e.st = store.New(db, files, store.Options{})
		e.srv = e.startServer(nil)
		e.deliver(e.john, "", msgPlain)
		// Cut the stored body short behind the store's back.
		var cut int
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				tcheck(t, os.Truncate(p, 20), "truncate")
				cut++
			}
			return nil
		})
		if cut != 1 {
			t.Fatalf("%d blob files", cut)
		}
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		r.send("f FETCH 1 BODY.PEEK[]\r\n")
		r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		rest, err := readAll(r)
		if err == nil || strings.Contains(rest, "f OK") || strings.Contains(rest, "f BAD") || strings.Contains(rest, "f NO") {
			t.Fatalf("after a cut body: %q, %v (want the connection closed)", rest, err)
		}
		other := e.raw(true)
		other.login("john@example.test")
		other.expect("s", "SELECT INBOX", "OK")
	})
}

func readAll(r *raw) (string, error) {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), err
		}
	}
}

// go-imap's extractor, the fallback for messages stored without part
// offsets, adds a partial's offset and size unchecked; the largest
// partial must get the part's bytes from the offset on, not a dropped
// connection.
func TestFetchHugePartialFallback(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		// A digest's part without a Content-Type is stored without offsets
		// (go-imap's reading of it differs from go-message's).
		e.deliver(e.john, "", "Subject: x\r\nContent-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\nSubject: inner\r\n\r\nhello\r\n--b--\r\n")
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		for _, c := range []string{"BODY.PEEK[1]<1.9223372036854775807>", "BINARY.PEEK[1]<1.9223372036854775807>", "BODY.PEEK[1]<9223372036854775807.9223372036854775807>"} {
			lines := r.expect("f", "FETCH 1 "+c, "OK")
			if got := strings.Join(lines, "\n"); !strings.HasPrefix(got, "* 1 FETCH (") {
				t.Fatalf("%s: %q", c, lines)
			}
		}
	})
}

// FROM matches an address written with space around its "@" (RFC 5322
// obs-local-part and obs-domain allow it), which the text alone does not.
func TestSearchAddressSpaced(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.deliver(e.john, "", "From: user @ example.org\r\nSubject: a\r\n\r\nx\r\n")
		e.deliver(e.john, "", "From: other@example.org\r\nSubject: b\r\n\r\nx\r\n")
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		lines := r.expect("f", "SEARCH FROM user@example.org", "OK")
		if len(lines) != 1 || lines[0] != "* SEARCH 1" {
			t.Fatalf("%q", lines)
		}
	})
}

// "multipart" without a subtype is not a multipart to go-imap (nor to
// us): BODY[1] is the whole body, as for any single-part message.
func TestMultipartWithoutSubtype(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		body := "--x\r\n\r\nfirst\r\n--x--\r\n"
		e.deliver(e.john, "", "Subject: x\r\nContent-Type: multipart; boundary=x\r\n\r\n"+body)
		r := e.raw(true)
		r.login("john@example.test")
		r.expect("s", "SELECT INBOX", "OK")
		lines := r.expect("f", "FETCH 1 BODY.PEEK[1]", "OK")
		want := []string{"* 1 FETCH (BODY[1] {" + strconv.Itoa(len(body)) + "}", "--x", "", "first", "--x--", ")"}
		if !slices.Equal(lines, want) {
			t.Fatalf("got %q, want %q", lines, want)
		}
	})
}
