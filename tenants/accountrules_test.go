package tenants_test

import (
	"errors"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestExpireAfterDays: a mailbox made with "expire 10 days after creation"
// logs in until then and not from then on (on a clock the test moves), and
// its open sessions end; 0 turns the rule off again.
func TestExpireAfterDays(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.example")
		f.mailbox("temp@a.example", func(nm *tenants.NewMailbox) { nm.Settings.ExpireAfterDays = 10 })
		f.mailbox("keep@a.example")
		ten := int64(-1)
		if _, err := f.svc.UpdateMailbox(f.ctx, f.sys, f.addr("keep@a.example"), tenants.MailboxUpdate{ExpireAfterDays: &ten}); err == nil {
			t.Fatal("negative days taken")
		}
		f.clock.Advance(10*24*time.Hour - time.Second)
		l, err := f.svc.ResolveLogin(f.ctx, tenants.IMAPLogin, "temp@a.example", fxPassword, "")
		tcheck(t, err, "login before expiry")
		w := f.svc.NewSessionWatch()
		ended := false
		w.Watch(l, func() { ended = true })
		f.clock.Advance(time.Second)
		_, err = f.svc.ResolveLogin(f.ctx, tenants.IMAPLogin, "temp@a.example", fxPassword, "")
		wantLoginFailure(t, err, tenants.Expired)
		tcheck(t, w.Check(f.ctx), "check")
		if !ended {
			t.Fatal("session of an expired mailbox not ended")
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.IMAPLogin, "keep@a.example", fxPassword, ""); err != nil {
			t.Fatalf("a mailbox without the rule: %v", err)
		}
		zero := int64(0)
		_, err = f.svc.UpdateMailbox(f.ctx, f.sys, f.addr("temp@a.example"), tenants.MailboxUpdate{ExpireAfterDays: &zero})
		tcheck(t, err, "clear")
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.IMAPLogin, "temp@a.example", fxPassword, ""); err != nil {
			t.Fatalf("after clearing the rule: %v", err)
		}
	})
}

// TestUsersChangePassword: with the domain's switch off, a user can't
// change their own password (ChangeOwnPassword, or UpdateMailbox with
// their scope), while the postmaster still can; on again, the user can.
func TestUsersChangePassword(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.example")
		f.mailbox("ann@a.example")
		ann := f.addr("ann@a.example")
		l, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "ann@a.example", fxPassword, "")
		tcheck(t, err, "login")
		tcheck(t, f.svc.SetDomainRules(f.ctx, f.sys, "a.example", tenants.DomainRules{UsersChangePassword: false}), "rules")
		var ve *tenants.ValidationError
		if _, err := f.svc.ChangeOwnPassword(f.ctx, l.UserScope(""), fxPassword, fxPassword2); !errors.As(err, &ve) || ve.Field != "password" {
			t.Fatalf("own change with the switch off: %v", err)
		}
		pw := fxPassword2
		if _, err := f.svc.UpdateMailbox(f.ctx, l.UserScope(""), ann, tenants.MailboxUpdate{Password: &pw}); !errors.As(err, &ve) {
			t.Fatalf("update with the user's scope: %v", err)
		}
		if _, err := f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "ann@a.example", fxPassword, ""); err != nil {
			t.Fatal("the password changed anyway")
		}
		pm := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm", DomainID: l.Mailbox.DomainID}
		_, err = f.svc.UpdateMailbox(f.ctx, pm, ann, tenants.MailboxUpdate{Password: &pw})
		tcheck(t, err, "postmaster sets it")
		r, err := f.svc.DomainRules(f.ctx, f.sys, "a.example")
		tcheck(t, err, "rules")
		if r.UsersChangePassword {
			t.Fatal("rule reads on")
		}
		tcheck(t, f.svc.SetDomainRules(f.ctx, f.sys, "a.example", tenants.DomainRules{UsersChangePassword: true}), "rules")
		l, err = f.svc.ResolveLogin(f.ctx, tenants.PanelLogin, "ann@a.example", fxPassword2, "")
		tcheck(t, err, "login")
		_, err = f.svc.ChangeOwnPassword(f.ctx, l.UserScope(""), fxPassword2, fxPassword)
		tcheck(t, err, "own change with the switch on")
	})
}
