package tenants_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/auth"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAppPasswords: an app password logs in over the protocols it allows
// only (in groups or not, any case), never at the panel; its use is
// stamped; revoking it refuses it at once, also when the auth cache
// remembers it, and ends the protocol sessions it opened.
func TestAppPasswords(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, john := loginFixture(t, db)
		johnA := f.addr("john@a.example")
		pw, ap, err := f.svc.CreateAppPassword(f.ctx, f.sys, johnA, "Phone", []tenants.Protocol{tenants.SMTP, tenants.IMAP})
		tcheck(t, err, "create app password")
		if ap.Protocols != "imap,smtp" || len(strings.ReplaceAll(pw, "-", "")) != 24 {
			t.Fatalf("app password %q for %q", pw, ap.Protocols)
		}
		for _, c := range []struct {
			kind tenants.LoginKind
			pw   string
			want tenants.LoginFailure
		}{
			{tenants.IMAPLogin, pw, 0},
			{tenants.IMAPLogin, strings.ToUpper(strings.ReplaceAll(pw, "-", "")), 0},
			{tenants.SMTPLogin, pw, 0},
			{tenants.POP3Login, pw, tenants.NotForProtocol},
			{tenants.CardDAVLogin, pw, tenants.NotForProtocol},
			{tenants.MailboxLogin, pw, tenants.NotForProtocol},
			{tenants.PanelLogin, pw, tenants.BadCredentials},
			{tenants.POP3Login, fxPassword, 0}, // two factors off: the own password still works
		} {
			l, err := f.svc.ResolveLogin(f.ctx, c.kind, "jo@a.example", c.pw, "192.0.2.9:1")
			if c.want != 0 {
				wantLoginFailure(t, err, c.want)
				continue
			}
			tcheck(t, err, "login")
			if l.Mailbox.ID != john.ID || (c.pw != fxPassword) != (l.AppPassword != nil) {
				t.Fatalf("kind %d: login %+v", c.kind, l)
			}
		}
		// Another mailbox's user can't see or revoke it; an unknown name is
		// not found; the same name twice is refused.
		jane, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "jane@a.example", fxPassword, "")
		tcheck(t, err, "jane")
		if _, err := f.svc.AppPasswords(f.ctx, jane.UserScope(""), johnA); err == nil {
			t.Fatal("jane lists john's app passwords")
		}
		if err := f.svc.RevokeAppPassword(f.ctx, jane.UserScope(""), johnA, "Phone"); err == nil {
			t.Fatal("jane revokes john's app password")
		}
		if _, _, err := f.svc.CreateAppPassword(f.ctx, f.sys, johnA, "Phone", []tenants.Protocol{tenants.IMAP}); err == nil {
			t.Fatal("a second app password of one name")
		}
		if _, _, err := f.svc.CreateAppPassword(f.ctx, f.sys, johnA, "None", nil); err == nil {
			t.Fatal("an app password for no protocol")
		}
		list, err := f.svc.AppPasswords(f.ctx, f.sys, johnA)
		tcheck(t, err, "list")
		if len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(fxT0) {
			t.Fatalf("list: %+v", list)
		}

		// The cache remembers it, and a revocation still refuses it, and
		// ends the session it opened but not one of the own password.
		cached := tenants.New(db, tenants.Options{Hasher: auth.TestHasher(), Now: f.clock.Now})
		w := cached.NewSessionWatch()
		var endedApp, endedOwn atomic.Int32
		for range 2 {
			l, err := cached.ResolveLogin(f.ctx, tenants.IMAPLogin, "john@a.example", pw, "192.0.2.9:1")
			tcheck(t, err, "cached login")
			w.Watch(l, func() { endedApp.Add(1) })
		}
		if cached.HashesRun() != 1 {
			t.Fatalf("hashes: %d", cached.HashesRun())
		}
		l, err := cached.ResolveLogin(f.ctx, tenants.IMAPLogin, "john@a.example", fxPassword, "192.0.2.9:1")
		tcheck(t, err, "own password")
		w.Watch(l, func() { endedOwn.Add(1) })
		tcheck(t, f.svc.RevokeAppPassword(f.ctx, f.sys, johnA, "Phone"), "revoke")
		_, err = cached.ResolveLogin(f.ctx, tenants.IMAPLogin, "john@a.example", pw, "192.0.2.9:1")
		wantLoginFailure(t, err, tenants.BadCredentials)
		tcheck(t, w.Check(f.ctx), "check")
		if endedApp.Load() != 2 || endedOwn.Load() != 0 {
			t.Fatalf("ended: app %d, own %d", endedApp.Load(), endedOwn.Load())
		}
		if err := f.svc.RevokeAppPassword(f.ctx, f.sys, johnA, "Phone"); err == nil {
			t.Fatal("revoked twice")
		}
	})
}

// TestTwoFactor: TOTP enrolment on a clock the test controls; then
// protocol logins take app passwords only, the panel's sign-in asks the
// second step; a code is taken once, a recovery code once; wrong codes
// count against the shared throttle and lock.
func TestTwoFactor(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f, _ := loginFixture(t, db)
		code := func(secret string) string {
			t.Helper()
			c, err := totp.GenerateCodeCustom(secret, f.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			tcheck(t, err, "code")
			return c
		}
		l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "")
		tcheck(t, err, "login")
		if l.TwoFactor {
			t.Fatal("two factors on before enrolment")
		}
		pw, _, err := f.svc.CreateAppPassword(f.ctx, f.sys, f.addr("john@a.example"), "Laptop", []tenants.Protocol{tenants.IMAP, tenants.POP3, tenants.SMTP})
		tcheck(t, err, "app password")
		en, err := f.svc.BeginTOTP(f.ctx, l, "Postdesk")
		tcheck(t, err, "begin")
		if !strings.HasPrefix(en.URI, "otpauth://totp/Postdesk:john@a.example?") {
			t.Fatalf("uri %s", en.URI)
		}
		// Not on until confirmed: the own password still logs in.
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.IMAPLogin, "john@a.example", fxPassword, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ConfirmTOTP(f.ctx, l, "000000"); err == nil && code(en.Secret) != "000000" {
			t.Fatal("wrong code confirmed")
		}
		rec, err := f.svc.ConfirmTOTP(f.ctx, l, code(en.Secret))
		tcheck(t, err, "confirm")
		if len(rec) != 10 {
			t.Fatalf("recovery codes %v", rec)
		}
		for _, k := range []tenants.LoginKind{tenants.IMAPLogin, tenants.POP3Login, tenants.SMTPLogin, tenants.MailboxLogin} {
			_, err := f.svc.ResolveLogin(f.ctx, k, "john@a.example", fxPassword, "")
			wantLoginFailure(t, err, tenants.AppPasswordRequired)
			if k != tenants.MailboxLogin {
				if _, err := f.svc.ResolveLogin(f.ctx, k, "john@a.example", pw, ""); err != nil {
					t.Fatalf("app password with two factors: %v", err)
				}
			}
		}
		l, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "")
		tcheck(t, err, "panel login")
		if !l.TwoFactor {
			t.Fatal("panel login does not ask the second step")
		}
		// The enrolment's code was taken; the next step's code works once.
		wantLoginFailure(t, f.svc.CheckSecondFactor(f.ctx, l, code(en.Secret), "192.0.2.3:1"), tenants.BadCredentials)
		f.clock.Advance(30 * time.Second)
		c := code(en.Secret)
		tcheck(t, f.svc.CheckSecondFactor(f.ctx, l, c, "192.0.2.3:1"), "second factor")
		wantLoginFailure(t, f.svc.CheckSecondFactor(f.ctx, l, c, "192.0.2.3:1"), tenants.BadCredentials)
		tcheck(t, f.svc.CheckSecondFactor(f.ctx, l, strings.ToUpper(rec[0]), "192.0.2.3:1"), "recovery code")
		wantLoginFailure(t, f.svc.CheckSecondFactor(f.ctx, l, rec[0], "192.0.2.3:1"), tenants.BadCredentials)
		st, err := f.svc.TwoFactor(f.ctx, l)
		tcheck(t, err, "state")
		if !st.On || st.RecoveryLeft != 9 {
			t.Fatalf("state %+v", st)
		}
		// Wrong codes lock the account from that address, as passwords do.
		th := tenants.DefaultThrottle()
		for range th.AccountLockAfter {
			wantLoginFailure(t, f.svc.CheckSecondFactor(f.ctx, l, "123456x", "192.0.2.4:1"), tenants.BadCredentials)
		}
		f.clock.Advance(30 * time.Second)
		wantLoginFailure(t, f.svc.CheckSecondFactor(f.ctx, l, code(en.Secret), "192.0.2.4:1"), tenants.Locked)
		// ... and the password from that address too: one throttle.
		_, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.4:1")
		wantLoginFailure(t, err, tenants.Locked)

		// A domain that requires two factors: its users may not turn them off.
		d := f.read("john@a.example").DomainID
		tcheck(t, f.svc.SetDomainRules(f.ctx, f.sys, "a.example", tenants.DomainRules{RequireTwoFactor: true}), "require")
		l, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "john@a.example", fxPassword, "192.0.2.5:1")
		tcheck(t, err, "login")
		if !l.TwoFactorRequired {
			t.Fatal("not required")
		}
		f.clock.Advance(30 * time.Second)
		if err := f.svc.TurnOffTwoFactor(f.ctx, l, code(en.Secret), "192.0.2.5:1"); err == nil {
			t.Fatal("turned off where required")
		}
		tcheck(t, f.svc.SetDomainRules(f.ctx, f.sys, "a.example", tenants.DomainRules{}), "require")
		l.TwoFactorRequired = false
		tcheck(t, f.svc.TurnOffTwoFactor(f.ctx, l, code(en.Secret), "192.0.2.5:1"), "turn off")
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.IMAPLogin, "john@a.example", fxPassword, "192.0.2.5:1"); err != nil {
			t.Fatalf("own password after two factors off: %v", err)
		}
		// A postmaster of another domain can't set a.example's rule.
		pm := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm", DomainID: d + 1000}
		if err := f.svc.SetDomainRules(f.ctx, pm, "a.example", tenants.DomainRules{RequireTwoFactor: true}); err == nil {
			t.Fatal("foreign postmaster set the rule")
		}
	})
}
