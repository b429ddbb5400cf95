package smtpd_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/rspamd"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
)

// TestRspamd scans the MX's mail with a real rspamd: GTUBE is refused
// with 554 5.7.1 and nothing stored; a message past the add-header score
// lands in Junk with its score and symbols; a clean one in INBOX, marked
// as scanned.
func TestRspamd(t *testing.T) {
	url := mailtest.StartRspamd(t)
	forEachWith(t, func(t *testing.T, e *env) {
		gtube := "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
		err := send(e.mx, "a@sender.test", []string{"john@example.test"}, msg("a@sender.test", "john@example.test", "gtube", "")+gtube+"\r\n")
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 554 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
			t.Errorf("GTUBE: %v, want 554 5.7.1", err)
		}
		tcheck(t, send(e.mx, "a@sender.test", []string{"john@example.test"}, msg("a@sender.test", "john@example.test", "offer "+mailtest.RspamdTestSubject, "")), "spam")
		tcheck(t, send(e.mx, "a@sender.test", []string{"john@example.test"}, msg("a@sender.test", "john@example.test", "lunch", "")), "ham")
		inbox := e.stored("john@example.test")
		if len(inbox) != 1 || !strings.Contains(inbox[0], "Subject: lunch") || !strings.Contains(inbox[0], "X-Spam-Status: No") {
			t.Errorf("INBOX: %d messages, want lunch marked X-Spam-Status: No; %q", len(inbox), inbox)
		}
		junk := mailtest.Folder(t, e.ctx, e.st, e.ids["john@example.test"], "Junk")
		if len(junk) != 1 || !strings.Contains(junk[0], "X-Spam-Status: Yes") || !strings.Contains(junk[0], "POSTDESK_TEST_SPAM") {
			t.Errorf("Junk: %d messages, want the spam with its score and symbols; %q", len(junk), junk)
		}
	}, envOptions{spam: rspamd.New(url, 30*time.Second)})
}

// TestRspamdUnavailable: rspamd down or answering garbage: the message is
// taken unscanned and counted (fail open), or answered 451 4.7.0 when the
// server fails closed; nothing is lost either way.
func TestRspamdUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "listen")
	down := "http://" + l.Addr().String()
	l.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"action": "eat it", "score": "x"`))
	}))
	t.Cleanup(garbage.Close)
	for _, url := range []string{down, garbage.URL} {
		c := rspamd.New(url, 5*time.Second)
		forEachWith(t, func(t *testing.T, e *env) {
			before := c.UnscannedCount()
			tcheck(t, send(e.mx, "a@sender.test", []string{"john@example.test"}, msg("a@sender.test", "john@example.test", "hi", "")), "fail open")
			if n := len(e.stored("john@example.test")); n != 1 {
				t.Errorf("fail open: john holds %d", n)
			}
			if c.UnscannedCount() != before+1 {
				t.Errorf("unscanned count %d, want %d", c.UnscannedCount(), before+1)
			}
		}, envOptions{spam: c})
		forEachWith(t, func(t *testing.T, e *env) {
			err := send(e.mx, "a@sender.test", []string{"john@example.test"}, msg("a@sender.test", "john@example.test", "hi", ""))
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 7, 0}) {
				t.Errorf("fail closed: %v, want 451 4.7.0", err)
			}
			if n := len(e.stored("john@example.test")); n != 0 {
				t.Errorf("fail closed: john holds %d", n)
			}
		}, envOptions{spam: c, config: func(c *smtpd.Config) { c.SpamFailClosed = true }})
	}
}
