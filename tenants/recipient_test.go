package tenants_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const testPassword = "Xk9#mq2!pLw7z"

func addr(t testing.TB, s string) address.Address {
	t.Helper()
	a, err := address.ParseAddress(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return a
}

func dom(t testing.TB, s string) address.Domain {
	t.Helper()
	d, err := address.ParseDomain(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return d
}

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// recipientFixture builds the domains, mailboxes and rules every
// ResolveRecipient case runs against.
func recipientFixture(t *testing.T, s *tenants.Service, now time.Time) {
	ctx := context.Background()
	sc := tenants.SystemScope("test")
	for _, d := range []string{"example.test", "alias.test", "c.test", "d.test", "off.test", "e.test"} {
		_, err := s.CreateDomain(ctx, sc, dom(t, d), "")
		tcheck(t, err, "create domain "+d)
	}
	mb := func(a string) {
		_, err := s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, a), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "create mailbox "+a)
	}
	for _, a := range []string{"john@example.test", "ann@example.test", "pm@example.test", "disabled@example.test",
		"expired@example.test", "later@example.test", "catchrest@c.test", "keeper@d.test", "x@off.test", "boss@e.test"} {
		mb(a)
	}
	tcheck(t, s.AddAlias(ctx, sc, addr(t, "sales@example.test"), addr(t, "john@example.test")), "alias sales")
	tcheck(t, s.AddAlias(ctx, sc, addr(t, "catchrest@d.test"), addr(t, "keeper@d.test")), "catchrest alias")
	alias := dom(t, "example.test")
	_, err := s.UpdateDomain(ctx, sc, dom(t, "alias.test"), tenants.DomainUpdate{AliasOf: &alias})
	tcheck(t, err, "alias domain")
	pm := addr(t, "pm@example.test")
	_, err = s.UpdateDomain(ctx, sc, dom(t, "example.test"), tenants.DomainUpdate{Postmaster: &pm})
	tcheck(t, err, "domain postmaster")
	off := false
	_, err = s.UpdateDomain(ctx, sc, dom(t, "off.test"), tenants.DomainUpdate{Active: &off})
	tcheck(t, err, "disable domain")
	_, err = s.UpdateMailbox(ctx, sc, addr(t, "disabled@example.test"), tenants.MailboxUpdate{Active: &off})
	tcheck(t, err, "disable mailbox")
	past := now.Add(-time.Hour)
	_, err = s.UpdateMailbox(ctx, sc, addr(t, "expired@example.test"), tenants.MailboxUpdate{ExpiresAt: &past})
	tcheck(t, err, "expire mailbox")
	tcheck(t, s.SetForwards(ctx, sc, addr(t, "ann@example.test"), []address.Address{addr(t, "x@remote.test"), addr(t, "john@example.test")}, false), "ann forwards")
	tcheck(t, s.SetForwards(ctx, sc, addr(t, "catchrest@c.test"), []address.Address{addr(t, "y@remote.test")}, true), "catchrest forwards")
	tcheck(t, s.SetResponder(ctx, sc, addr(t, "john@example.test"), tenants.ResponderInput{Enabled: true, Subject: "Away", Body: "Back Monday"}), "john responder")
	tcheck(t, s.SetResponder(ctx, sc, addr(t, "catchrest@c.test"), tenants.ResponderInput{Enabled: true, Subject: "Away", Body: "x"}), "catchrest responder")
	future := now.Add(48 * time.Hour)
	tcheck(t, s.SetResponder(ctx, sc, addr(t, "later@example.test"), tenants.ResponderInput{Enabled: true, Subject: "Soon", Body: "x", StartsAt: &future}), "later responder")
	tcheck(t, s.SetSystemPostmaster(ctx, sc, addr(t, "boss@e.test")), "system postmaster")
}

func TestResolveRecipient(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		s := tenantstest.Service(db, func() time.Time { return now })
		recipientFixture(t, s, now)
		ctx := context.Background()
		cases := []struct {
			rcpt    string
			err     error
			mailbox string // the mailbox it resolves to
			store   bool
			forward []string
			respond bool
			via     string
		}{
			{rcpt: "john@example.test", mailbox: "john@example.test", store: true, respond: true, via: tenants.ViaMailbox},
			{rcpt: "JOHN@Example.TEST", mailbox: "john@example.test", store: true, respond: true, via: tenants.ViaMailbox},
			{rcpt: "sales@example.test", mailbox: "john@example.test", store: true, respond: true, via: tenants.ViaAlias},
			{rcpt: "john@alias.test", mailbox: "john@example.test", store: true, respond: true, via: tenants.ViaMailbox + tenants.ViaAliasDomain},
			{rcpt: "sales@alias.test", mailbox: "john@example.test", store: true, respond: true, via: tenants.ViaAlias + tenants.ViaAliasDomain},
			{rcpt: "john+lists@example.test", mailbox: "john@example.test", store: true, respond: true, via: tenants.ViaSubaddress},
			{rcpt: "ann@example.test", mailbox: "ann@example.test", store: false, forward: []string{"x@remote.test", "john@example.test"}, via: tenants.ViaMailbox},
			{rcpt: "postmaster@example.test", mailbox: "pm@example.test", store: true, via: tenants.ViaPostmaster},
			{rcpt: "abuse@alias.test", mailbox: "pm@example.test", store: true, via: tenants.ViaPostmaster + tenants.ViaAliasDomain},
			{rcpt: "postmaster@c.test", mailbox: "catchrest@c.test", store: true, forward: []string{"y@remote.test"}, via: tenants.ViaCatchrest},
			{rcpt: "abuse@d.test", mailbox: "keeper@d.test", store: true, via: tenants.ViaCatchrest},
			{rcpt: "nobody@example.test", err: tenants.ErrNoSuchUser},
			{rcpt: "nobody+x@example.test", err: tenants.ErrNoSuchUser},
			{rcpt: "anything@c.test", mailbox: "catchrest@c.test", store: true, forward: []string{"y@remote.test"}, via: tenants.ViaCatchrest},
			{rcpt: "catchrest@c.test", mailbox: "catchrest@c.test", store: true, forward: []string{"y@remote.test"}, respond: true, via: tenants.ViaMailbox},
			{rcpt: "anything@d.test", mailbox: "keeper@d.test", store: true, via: tenants.ViaCatchrest},
			{rcpt: "keeper@d.test", mailbox: "keeper@d.test", store: true, via: tenants.ViaMailbox},
			{rcpt: "someone@elsewhere.test", err: tenants.ErrNotHosted},
			{rcpt: "x@off.test", err: tenants.ErrDisabled},
			{rcpt: "disabled@example.test", err: tenants.ErrDisabled},
			{rcpt: "expired@example.test", err: tenants.ErrDisabled},
			{rcpt: "later@example.test", mailbox: "later@example.test", store: true, via: tenants.ViaMailbox},
		}
		for _, tc := range cases {
			p, err := s.ResolveRecipient(ctx, addr(t, tc.rcpt))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("%s: got %v, want %v", tc.rcpt, err, tc.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tc.rcpt, err)
				continue
			}
			var fw []string
			for _, f := range p.Forward {
				fw = append(fw, f.String())
			}
			if got := p.Mailbox.Address.String(); got != tc.mailbox {
				t.Errorf("%s: mailbox %s, want %s", tc.rcpt, got, tc.mailbox)
			}
			if p.Store != tc.store || !slices.Equal(fw, tc.forward) || (p.Respond != nil) != tc.respond || p.Via != tc.via {
				t.Errorf("%s: store %t forward %v respond %t via %q; want %t %v %t %q",
					tc.rcpt, p.Store, fw, p.Respond != nil, p.Via, tc.store, tc.forward, tc.respond, tc.via)
			}
			if p.Respond != nil {
				if !slices.ContainsFunc(p.Respond.Own, func(a address.Address) bool { return a.String() == "sales@example.test" }) && tc.mailbox == "john@example.test" {
					t.Errorf("%s: responder's own addresses %v lack the alias", tc.rcpt, p.Respond.Own)
				}
			}
		}
		p, err := s.ResolvePostmaster(ctx)
		tcheck(t, err, "bare postmaster")
		if p.Mailbox.Address.String() != "boss@e.test" || !p.Store {
			t.Errorf("bare postmaster reached %s", p.Mailbox.Address)
		}
	})
}
