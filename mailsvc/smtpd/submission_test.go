package smtpd_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/auth"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// submitClient logs in over STARTTLS with go-smtp's client.
func (e *env) submitClient(t testing.TB, login string) *smtp.Client {
	t.Helper()
	c, err := smtp.DialStartTLS(e.sub, &tls.Config{InsecureSkipVerify: true})
	tcheck(t, err, "dial submission")
	t.Cleanup(func() { c.Close() })
	tcheck(t, c.Auth(sasl.NewPlainClient("", login, pw)), "auth "+login)
	return c
}

// TestSubmission: AUTH only after TLS (530 before), PLAIN and LOGIN in
// both login forms, sender and From checks, local delivery at once and
// remote recipients queued.
func TestSubmission(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.sub)
		text := c.expect("EHLO client.test", 250, "")
		if strings.Contains(text, "AUTH") || !strings.Contains(text, "STARTTLS") {
			t.Errorf("EHLO before TLS: %s", text)
		}
		c.expect("AUTH PLAIN "+plain("john@example.test", pw), 530, "5.7.0")
		c.expect("MAIL FROM:<john@example.test>", 530, "5.7.0")
		c.starttls()
		text = c.expect("EHLO client.test", 250, "")
		if !strings.Contains(text, "AUTH PLAIN LOGIN") {
			t.Errorf("EHLO after TLS: %s", text)
		}
		c.expect("MAIL FROM:<john@example.test>", 530, "5.7.0")
		c.expect("AUTH PLAIN "+plain("john@example.test", pw), 235, "")
		c.expect("MAIL FROM:<ann@example.test>", 553, "5.7.1")
		c.expect("MAIL FROM:<>", 553, "5.7.1")
		c.expect("MAIL FROM:<sales@example.test>", 250, "") // an alias
		c.expect("RSET", 250, "")
		c.expect("MAIL FROM:<john@alias.test>", 250, "") // the alias domain
		c.expect("RCPT TO:<ann@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send(msg("ann@example.test", "ann@example.test", "spoof", "") + ".\r\n")
		if code, text := c.read(); code != 550 || !strings.Contains(text, "5.7.1") {
			t.Errorf("From header of another user: %s", text)
		}
		c.expect("MAIL FROM:<john@example.test>", 250, "")
		c.expect("RCPT TO:<ann@example.test>", 250, "")
		c.expect("DATA", 354, "")
		c.send("Subject: no from\r\n\r\nbody\r\n.\r\n")
		if code, _ := c.read(); code != 550 {
			t.Errorf("message without From accepted")
		}
		if n := len(e.stored("ann@example.test")); n != 0 {
			t.Fatalf("refused submissions were stored")
		}

		// LOGIN, with the user/domain form, over implicit TLS.
		ic, err := smtp.DialTLS(e.subs, &tls.Config{InsecureSkipVerify: true})
		tcheck(t, err, "dial submissions")
		defer ic.Close()
		tcheck(t, ic.Auth(sasl.NewLoginClient("john/example.test", pw)), "AUTH LOGIN")
		err = sendOn(ic, "john@example.test", []string{"ann@example.test", "far@remote.test", "other@remote.test"}, msg("john@example.test", "far@remote.test", "out", ""))
		tcheck(t, err, "submit")
		if n := len(e.stored("ann@example.test")); n != 1 {
			t.Errorf("local recipient holds %d, want 1", n)
		}
		subs := e.kinds(delivery.KindSubmission)
		if len(subs) != 1 || subs[0].From != "john@example.test" || strings.Join(subs[0].Rcpts, ",") != "far@remote.test,other@remote.test" {
			t.Errorf("queued submissions %+v", subs)
		}
		// A mailbox that may not send.
		nc := e.submitClient(t, "nosend@example.test")
		if err := nc.Mail("nosend@example.test", nil); code(err) != 550 {
			t.Errorf("a may-send=false mailbox: %v, want 550", err)
		}
		// An address literal is never a destination.
		jc := e.submitClient(t, "john@example.test")
		tcheck(t, jc.Mail("john@example.test", nil), "mail")
		if err := jc.Rcpt("x@[192.0.2.1]", nil); code(err) != 550 {
			t.Errorf("address literal recipient: %v", err)
		}
	}, nil)
}

// TestLoginThrottle: wrong passwords get 535 and, past the per-connection
// limit, 421 and the connection closes; a locked account gets 421 even with
// the right password; an account that doesn't exist is answered alike.
func TestLoginThrottle(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		for _, user := range []string{"john@example.test", "ghost@example.test"} {
			c := dialRaw(t, e.sub)
			c.expect("EHLO client.test", 250, "")
			c.starttls()
			c.expect("EHLO client.test", 250, "")
			c.expect("AUTH PLAIN "+plain(user, "wrong-Password-1"), 535, "5.7.8")
			c.expect("AUTH PLAIN "+plain(user, "wrong-Password-2"), 535, "5.7.8")
			c.expect("AUTH LOGIN "+base64.StdEncoding.EncodeToString([]byte(user)), 334, "")
			c.expect(base64.StdEncoding.EncodeToString([]byte("wrong-Password-3")), 421, "4.7.0")
			if code, _ := c.read(); code != 0 {
				t.Errorf("%s: connection still open after 421", user)
			}
		}
		// The throttle locks an account, existing or not, after 10 failures.
		for _, user := range []string{"john@example.test", "ghost@example.test"} {
			for i := 0; i < 3; i++ {
				c := dialRaw(t, e.sub)
				c.expect("EHLO client.test", 250, "")
				c.starttls()
				c.expect("EHLO client.test", 250, "")
				for j := 0; j < 3; j++ {
					c.cmd("AUTH PLAIN " + plain(user, "wrong-Password-x"))
				}
			}
		}
		for _, user := range []string{"john@example.test", "ghost@example.test"} {
			c := dialRaw(t, e.sub)
			c.expect("EHLO client.test", 250, "")
			c.starttls()
			c.expect("EHLO client.test", 250, "")
			c.expect("AUTH PLAIN "+plain(user, pw), 421, "4.7.0")
			if code, _ := c.read(); code != 0 {
				t.Errorf("%s: connection open after a locked login", user)
			}
		}
	}, nil)
}

// TestRateLimit: past the per-mailbox limit RCPT gets 451 4.7.1 and the
// audit log (the postmaster's view) has an entry, written once.
func TestRateLimit(t *testing.T) {
	forEachWith(t, func(t *testing.T, e *env) {
		c := e.submitClient(t, "john@example.test")
		tcheck(t, sendOn(c, "john@example.test", []string{"ann@example.test", "catchrest@c.test"}, msg("john@example.test", "ann@example.test", "1", "")), "first two")
		tcheck(t, c.Mail("john@example.test", nil), "mail")
		err := c.Rcpt("ann@example.test", nil)
		if code(err) != 451 || enhanced(err) != "4.7.1" {
			t.Fatalf("third recipient in the hour: %v, want 451 4.7.1", err)
		}
		c.Reset()
		tcheck(t, c.Mail("john@example.test", nil), "mail")
		if err := c.Rcpt("ann@example.test", nil); code(err) != 451 {
			t.Errorf("still limited: %v", err)
		}
		var n int64
		tcheck(t, e.db.Read(e.ctx).Model(&tenants.AuditEntry{}).Where("action = ? AND actor = ?", "submission.rate_limit", "john@example.test").Count(&n).Error, "audit")
		if n != 1 {
			t.Errorf("%d audit entries for the limit, want 1", n)
		}
		pm := tenants.Scope{Role: tenants.RolePostmaster, Actor: "ann@example.test", DomainID: 1}
		d, err := e.ten.Domain(e.ctx, sys, "example.test")
		tcheck(t, err, "domain")
		pm.DomainID = d.ID
		entries, err := e.ten.AuditLog(e.ctx, pm, 50, 0)
		tcheck(t, err, "postmaster audit log")
		seen := false
		for _, a := range entries {
			seen = seen || a.Action == "submission.rate_limit"
		}
		if !seen {
			t.Errorf("the domain's postmaster does not see the rate limit entry")
		}
		// The domain limit: ann may send one more before the domain's 3.
		ac := e.submitClient(t, "ann@example.test")
		tcheck(t, ac.Mail("ann@example.test", nil), "mail")
		tcheck(t, ac.Rcpt("john@example.test", nil), "rcpt within the domain limit")
		if err := ac.Rcpt("catchrest@c.test", nil); code(err) != 451 {
			t.Errorf("past the domain limit: %v", err)
		}
	}, envOptions{limits: delivery.RateLimits{MailboxPerHour: 2, MailboxPerDay: 100, DomainPerHour: 3, DomainPerDay: 100}})
}

// TestFaults: low disk gives 452 4.3.1 at MAIL and recovers; a database
// that is gone gives 451 4.3.0, never a 5xx.
func TestFaults(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		e.disk.free.Store(1 << 20)
		c.expect("MAIL FROM:<a@remote.test>", 452, "4.3.1")
		e.disk.free.Store(1 << 40)
		c.expect("MAIL FROM:<a@remote.test>", 250, "")
		c.expect("RCPT TO:<john@example.test>", 250, "")
		tcheck(t, e.db.Close(), "close db")
		c.expect("DATA", 354, "")
		c.send(msg("a@remote.test", "john@example.test", "db down", "") + ".\r\n")
		if code, text := c.read(); code != 451 {
			t.Errorf("DATA with the database down: %s, want 451", text)
		}
		c.expect("MAIL FROM:<a@remote.test>", 451, "4.3.0")
		c2 := dialRaw(t, e.mx)
		c2.expect("EHLO client.test", 250, "")
		c2.expect("MAIL FROM:<a@remote.test>", 451, "4.3.0")
	}, nil)
}

// TestPythonSmtplib drives the servers with Python's smtplib, a client
// that is not ours.
func TestPythonSmtplib(t *testing.T) {
	py := mailtest.Python3(t)
	forEach(t, func(t *testing.T, e *env) {
		script := `
import smtplib, ssl, sys
mx, sub, pw = sys.argv[1], sys.argv[2], sys.argv[3]
def hp(a):
    h, p = a.rsplit(":", 1); return h, int(p)
msg = "From: <john@example.test>\r\nTo: <ann@example.test>\r\nSubject: py\r\n\r\nhello\r\n"
with smtplib.SMTP(*hp(mx), timeout=10) as s:
    s.ehlo("py.test")
    assert s.has_extn("pipelining") and s.has_extn("smtputf8") and s.has_extn("enhancedstatuscodes")
    s.sendmail("someone@remote.test", ["ann@example.test"], msg)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(*hp(sub), timeout=10) as s:
    s.ehlo("py.test"); s.starttls(context=ctx); s.ehlo("py.test")
    s.login("john/example.test", pw)
    s.sendmail("john@example.test", ["ann@example.test"], msg)
    try:
        s.sendmail("ann@example.test", ["john@example.test"], msg)
        sys.exit("sent as another user")
    except smtplib.SMTPSenderRefused as ex:
        assert ex.smtp_code == 553, ex
print("ok")
`
		f := filepath.Join(t.TempDir(), "check.py")
		tcheck(t, os.WriteFile(f, []byte(script), 0o600), "write script")
		out, err := exec.Command(py, f, e.mx, e.sub, pw).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ok") {
			t.Fatalf("python: %v\n%s", err, out)
		}
		if n := len(e.stored("ann@example.test")); n != 2 {
			t.Errorf("ann holds %d, want 2", n)
		}
	}, nil)
}

// delays records the login throttle's delays instead of sleeping them.
type delays struct {
	mu sync.Mutex
	d  []time.Duration
}

func (r *delays) sleep(_ context.Context, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.d = append(r.d, d)
}

func (r *delays) take() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.d
	r.d = nil
	return d
}

// TestAuthRefusals, over go-smtp's client: an unknown name, an
// administrator's name (right password or wrong) and a wrong password, for
// a disabled or expired mailbox too, get the one generic 535 5.7.8 answer,
// each after the throttle's delay (every failure has one here), so that
// neither the answer nor its timing confirms a password or an account;
// the right password of a disabled or expired mailbox is told so (525
// 5.7.13, RFC 5248), as every protocol tells it.
func TestAuthRefusals(t *testing.T) {
	rec := &delays{}
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnvWith(t, db, envOptions{tenants: func(db *database.DB) *tenants.Service {
			th := tenants.DefaultThrottle()
			th.FreeFailures = 0 // a delay from the first failure on
			return tenants.New(db, tenants.Options{Hasher: auth.TestHasher(), Throttle: th, Sleep: rec.sleep})
		}})
		const adminPW = "Adm1n#Pass-word"
		_, err := e.ten.CreateAdmin(e.ctx, sys, "root", adminPW)
		tcheck(t, err, "admin")
		past := time.Now().Add(-time.Hour)
		e.mailbox("gone@example.test", nil)
		_, err = e.ten.UpdateMailbox(e.ctx, sys, addr("gone@example.test"), tenants.MailboxUpdate{ExpiresAt: &past})
		tcheck(t, err, "expire")

		try := func(user, pass string) string {
			t.Helper()
			c, err := smtp.DialStartTLS(e.sub, &tls.Config{InsecureSkipVerify: true})
			tcheck(t, err, "dial submission")
			defer c.Close()
			rec.take()
			err = c.Auth(sasl.NewPlainClient("", user, pass))
			if err == nil {
				t.Fatalf("%s: logged in", user)
			}
			if d := rec.take(); len(d) == 0 || d[len(d)-1] <= 0 {
				t.Errorf("%s: answered without the throttle's delay (%v)", user, d)
			}
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				t.Fatalf("%s: %v", user, err)
			}
			return fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
		}
		want := try("john@example.test", "wrong-Password-1")
		if !strings.Contains(want, "535 5.7.8") {
			t.Fatalf("wrong password: %q, want 535 5.7.8", want)
		}
		for _, tc := range []struct{ name, user, pass, want string }{
			{"unknown name", "ghost@example.test", pw, want},
			{"admin, right password", "root", adminPW, want},
			{"admin, wrong password", "root", "wrong-Password-2", want},
			{"disabled mailbox, wrong password", "off@example.test", "wrong-Password-3", want},
			{"expired mailbox, wrong password", "gone@example.test", "wrong-Password-4", want},
			{"disabled mailbox, right password", "off@example.test", pw, "525 5.7.13 Account disabled"},
			{"expired mailbox, right password", "gone@example.test", pw, "525 5.7.13 Account expired"},
		} {
			if got := try(tc.user, tc.pass); got != tc.want {
				t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			}
		}
		// Still a working login.
		e.submitClient(t, "john@example.test")
	})
}

// TestRateLimitParallel: connections that each pass the check at RCPT
// can't send together past the limit: it is checked again when DATA
// commits, and the message past it gets 451 4.7.1, nothing stored.
func TestRateLimitParallel(t *testing.T) {
	forEachWith(t, func(t *testing.T, e *env) {
		var cs []*smtp.Client
		for i := 0; i < 3; i++ {
			c := e.submitClient(t, "john@example.test")
			tcheck(t, c.Mail("john@example.test", nil), "mail")
			tcheck(t, c.Rcpt("ann@example.test", nil), "rcpt within the limit")
			cs = append(cs, c)
		}
		var errs []error
		for i, c := range cs {
			w, err := c.Data()
			tcheck(t, err, "data")
			_, err = w.Write([]byte(msg("john@example.test", "ann@example.test", "parallel "+strconv.Itoa(i), "")))
			tcheck(t, err, "write")
			errs = append(errs, w.Close())
		}
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("within the limit: %v", errs)
		}
		if code(errs[2]) != 451 || enhanced(errs[2]) != "4.7.1" {
			t.Fatalf("third message past the hourly limit of 2: %v, want 451 4.7.1", errs[2])
		}
		if n := len(e.stored("ann@example.test")); n != 2 {
			t.Errorf("ann holds %d, want 2", n)
		}
	}, envOptions{limits: delivery.RateLimits{MailboxPerHour: 2, MailboxPerDay: 100, DomainPerHour: 100, DomainPerDay: 100}})
}
