package tenants_test

import (
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestLeaver: one action turns sign-in off (every protocol and the panel,
// open sessions end) while mail still arrives, sets the forward with
// store off and the responder; a bad part (a forward loop) changes
// nothing; a user or another domain's postmaster can't do it.
func TestLeaver(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db)
		f.domain("a.example")
		f.domain("b.example")
		leo := f.mailbox("leo@a.example")
		f.mailbox("boss@a.example")
		f.mailbox("pm@b.example")
		leoA := f.addr("leo@a.example")
		l, err := f.svc.ResolveLogin(f.ctx, tenants.IMAPLogin, "leo@a.example", fxPassword, "")
		tcheck(t, err, "login")
		w := f.svc.NewSessionWatch()
		ended := false
		w.Watch(l, func() { ended = true })
		in := tenants.Leaver{ForwardTo: []address.Address{f.addr("boss@a.example")},
			Responder: tenants.ResponderInput{Enabled: true, Subject: "Leo has left", Body: "Write to boss@a.example."}}
		if err := f.svc.Leave(f.ctx, l.UserScope(""), leoA, in); err == nil {
			t.Fatal("a user made themselves a leaver")
		}
		pmB := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm@b.example", DomainID: f.read("pm@b.example").DomainID}
		if err := f.svc.Leave(f.ctx, pmB, leoA, in); err == nil {
			t.Fatal("another domain's postmaster made leo a leaver")
		}
		loop := in
		loop.ForwardTo = []address.Address{leoA}
		pm := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm@a.example", DomainID: leo.DomainID}
		if err := f.svc.Leave(f.ctx, pm, leoA, loop); err == nil {
			t.Fatal("a forward loop taken")
		}
		if f.read("leo@a.example").SignInOff {
			t.Fatal("a refused leaver action turned sign-in off")
		}
		tcheck(t, f.svc.Leave(f.ctx, pm, leoA, in), "leave")
		for _, k := range []tenants.LoginKind{tenants.IMAPLogin, tenants.SMTPLogin, tenants.PanelLogin} {
			_, err := f.svc.ResolveLogin(f.ctx, k, "leo@a.example", fxPassword, "")
			wantLoginFailure(t, err, tenants.Inactive)
		}
		tcheck(t, w.Check(f.ctx), "check")
		if !ended {
			t.Fatal("the leaver's session goes on")
		}
		fw, store, err := f.svc.Forwards(f.ctx, f.sys, leoA)
		tcheck(t, err, "forwards")
		r, err := f.svc.Responder(f.ctx, f.sys, leoA)
		tcheck(t, err, "responder")
		if len(fw) != 1 || fw[0] != "boss@a.example" || store || !r.Enabled || r.Subject != "Leo has left" {
			t.Fatalf("forwards %v store %v responder %+v", fw, store, r)
		}
		// Mail still arrives (and goes on to the forward).
		if _, err := f.svc.ResolveRecipient(f.ctx, leoA); err != nil {
			t.Fatalf("mail to the leaver: %v", err)
		}
	})
}
