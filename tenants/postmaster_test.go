package tenants_test

import (
	"context"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestPostmasterStaysInTenant: a domain's postmaster@ and abuse@ reach that
// domain's named postmaster, else its catchrest, else the system postmaster
// an administrator named, else the system mailbox; never another tenant's
// postmaster (they reached the postmaster of the oldest domain that had
// one). A bare <postmaster> follows the last two steps.
func TestPostmasterStaysInTenant(t *testing.T) {
	type want struct {
		mailbox string // "" for the system mailbox
		via     string
	}
	for _, tc := range []struct {
		name      string
		catchrest bool   // b.test has a catchrest
		system    string // the system postmaster named, if any
		b         want   // postmaster@b.test and abuse@b.test
		bare      want   // <postmaster>
	}{
		{name: "nothing named", b: want{"", tenants.ViaSystem}, bare: want{"", tenants.ViaSystem}},
		{name: "catchrest", catchrest: true, b: want{"rest@b.test", tenants.ViaCatchrest}, bare: want{"", tenants.ViaSystem}},
		{name: "system postmaster", system: "ops@sys.test", b: want{"ops@sys.test", tenants.ViaPostmaster}, bare: want{"ops@sys.test", tenants.ViaPostmaster}},
		{name: "catchrest and system postmaster", catchrest: true, system: "ops@sys.test",
			b: want{"rest@b.test", tenants.ViaCatchrest}, bare: want{"ops@sys.test", tenants.ViaPostmaster}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				ctx := context.Background()
				s := tenantstest.Service(db, nil)
				sc := tenants.SystemScope("test")
				// a.test is the oldest domain and has a postmaster.
				for _, d := range []string{"a.test", "b.test", "sys.test"} {
					_, err := s.CreateDomain(ctx, sc, dom(t, d), "")
					tcheck(t, err, "create domain "+d)
				}
				for _, a := range []string{"pm@a.test", "bob@b.test", "rest@b.test", "ops@sys.test"} {
					_, err := s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, a), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
					tcheck(t, err, "create mailbox "+a)
				}
				pm := addr(t, "pm@a.test")
				_, err := s.UpdateDomain(ctx, sc, dom(t, "a.test"), tenants.DomainUpdate{Postmaster: &pm})
				tcheck(t, err, "a.test postmaster")
				if tc.catchrest {
					tcheck(t, s.AddAlias(ctx, sc, addr(t, "catchrest@b.test"), addr(t, "rest@b.test")), "b.test catchrest")
				}
				if tc.system != "" {
					tcheck(t, s.SetSystemPostmaster(ctx, sc, addr(t, tc.system)), "system postmaster")
				}
				check := func(what string, p *tenants.Plan, err error, w want) {
					t.Helper()
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					got := p.Mailbox.Address.String()
					if p.System {
						got = ""
					}
					if got != w.mailbox || p.Via != w.via || p.System != (w.mailbox == "") || !p.Store {
						t.Errorf("%s: reached %q via %q (system %t, store %t), want %q via %q", what, got, p.Via, p.System, p.Store, w.mailbox, w.via)
					}
					if p.System && (p.Mailbox.MailboxID != tenants.SystemMailbox || len(p.Forward) > 0 || p.Respond != nil) {
						t.Errorf("%s: system mailbox plan %+v", what, p)
					}
				}
				for _, local := range []string{"postmaster", "abuse", "Postmaster"} {
					a := address.Address{Local: address.Localpart(local), Domain: "b.test"}
					if pa, err := address.ParseAddress(a.String()); err == nil {
						a = pa
					}
					p, err := s.ResolveRecipient(ctx, a)
					check(a.String(), p, err, tc.b)
				}
				p, err := s.ResolveRecipient(ctx, addr(t, "postmaster@a.test"))
				check("postmaster@a.test", p, err, want{"pm@a.test", tenants.ViaPostmaster})
				p, err = s.ResolvePostmaster(ctx)
				check("<postmaster>", p, err, tc.bare)

				// Naming and clearing the system postmaster.
				got, err := s.SystemPostmaster(ctx, sc)
				tcheck(t, err, "read system postmaster")
				if got.String() != tc.system {
					t.Errorf("system postmaster %q, want %q", got, tc.system)
				}
				tcheck(t, s.SetSystemPostmaster(ctx, sc, address.Address{}), "clear system postmaster")
				p, err = s.ResolvePostmaster(ctx)
				check("<postmaster> after clearing", p, err, want{"", tenants.ViaSystem})
				if _, err := s.SystemPostmaster(ctx, tenants.Scope{Role: tenants.RolePostmaster, DomainID: 1}); err == nil {
					t.Error("a postmaster read the system postmaster")
				}
			})
		})
	}
}

// TestPostmasterSkipsDisabled: a step of the postmaster rule whose mailbox
// is disabled passes to the next (RFC 5321 4.5.1: postmaster mail is
// accepted), still never to another tenant.
func TestPostmasterSkipsDisabled(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := tenantstest.Service(db, nil)
		sc := tenants.SystemScope("test")
		for _, d := range []string{"a.test", "b.test", "sys.test"} {
			_, err := s.CreateDomain(ctx, sc, dom(t, d), "")
			tcheck(t, err, "create domain "+d)
		}
		for _, a := range []string{"pm@a.test", "pm@b.test", "rest@b.test", "ops@sys.test"} {
			_, err := s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, a), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
			tcheck(t, err, "create mailbox "+a)
		}
		for _, d := range []string{"a", "b"} {
			pm := addr(t, "pm@"+d+".test")
			_, err := s.UpdateDomain(ctx, sc, dom(t, d+".test"), tenants.DomainUpdate{Postmaster: &pm})
			tcheck(t, err, "postmaster of "+d)
		}
		tcheck(t, s.AddAlias(ctx, sc, addr(t, "catchrest@b.test"), addr(t, "rest@b.test")), "catchrest")
		tcheck(t, s.SetSystemPostmaster(ctx, sc, addr(t, "ops@sys.test")), "system postmaster")
		off := false
		for _, step := range []struct {
			disable string
			want    string // "" for the system mailbox
		}{
			{"", "pm@b.test"},
			{"pm@b.test", "rest@b.test"},
			{"rest@b.test", "ops@sys.test"},
			{"ops@sys.test", ""},
		} {
			if step.disable != "" {
				_, err := s.UpdateMailbox(ctx, sc, addr(t, step.disable), tenants.MailboxUpdate{Active: &off})
				tcheck(t, err, "disable "+step.disable)
			}
			p, err := s.ResolveRecipient(ctx, addr(t, "abuse@b.test"))
			tcheck(t, err, "abuse@b.test after disabling "+step.disable)
			got := p.Mailbox.Address.String()
			if p.System {
				got = ""
			}
			if got != step.want || p.System != (step.want == "") {
				t.Errorf("after disabling %q: abuse@b.test reached %q (system %t), want %q", step.disable, got, p.System, step.want)
			}
		}
		p, err := s.ResolvePostmaster(ctx)
		tcheck(t, err, "bare postmaster")
		if !p.System {
			t.Errorf("bare postmaster with the system postmaster disabled reached %s", p.Mailbox.Address)
		}
	})
}
