package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// listFixture: a.test with mailboxes alice and owner, b.test with bob, and
// the discussion list team@a.test owned by owner@a.test.
func listFixture(t *testing.T, s *tenants.Service) *tenants.List {
	t.Helper()
	ctx := context.Background()
	sc := tenants.SystemScope("test")
	for _, d := range []string{"a.test", "b.test"} {
		_, err := s.CreateDomain(ctx, sc, dom(t, d), "")
		tcheck(t, err, "create domain "+d)
	}
	for _, a := range []string{"alice@a.test", "owner@a.test", "bob@b.test"} {
		_, err := s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, a), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "create mailbox "+a)
	}
	l, err := s.CreateList(ctx, sc, tenants.ListInput{Address: addr(t, "team@a.test"), Owners: []address.Address{addr(t, "owner@a.test")}, BounceThreshold: 2})
	tcheck(t, err, "create list")
	return l
}

func memberAddrs(t *testing.T, s *tenants.Service, list string) []string {
	t.Helper()
	ms, err := s.ListMembers(context.Background(), tenants.SystemScope("test"), addr(t, list))
	tcheck(t, err, "list members")
	var out []string
	for _, m := range ms {
		if m.Member {
			out = append(out, m.Address)
		}
	}
	return out
}

// A list's address and its command addresses are addresses of the domain
// like any other: no mailbox or alias may take them, and no list may take
// a mailbox's or alias's address.
func TestListAddressUnique(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		s := tenantstest.Service(db, nil)
		listFixture(t, s)
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		for _, a := range []string{"team@a.test", "team-subscribe@a.test", "team-unsubscribe@a.test", "team-owner@a.test", "team-bounces@a.test", "team-confirm@a.test"} {
			_, err := s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, a), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
			if !errors.Is(err, tenants.ErrExists) || !strings.Contains(err.Error(), "list team@a.test") {
				t.Errorf("mailbox %s: %v, want taken by the list", a, err)
			}
			if err := s.AddAlias(ctx, sc, addr(t, a), addr(t, "alice@a.test")); !errors.Is(err, tenants.ErrExists) {
				t.Errorf("alias %s: %v, want ErrExists", a, err)
			}
		}
		for _, a := range []string{"alice@a.test", "team@a.test", "team-owner@a.test", "alice-owner@a.test"} {
			if a == "alice-owner@a.test" {
				tcheck(t, s.AddAlias(ctx, sc, addr(t, "alice-owner@a.test"), addr(t, "alice@a.test")), "alias alice-owner")
				a = "alice@a.test"
			}
			if _, err := s.CreateList(ctx, sc, tenants.ListInput{Address: addr(t, a)}); !errors.Is(err, tenants.ErrExists) {
				t.Errorf("list %s: %v, want ErrExists", a, err)
			}
		}
		// The same local part in another domain is another address.
		_, err := s.CreateList(ctx, sc, tenants.ListInput{Address: addr(t, "team@b.test")})
		tcheck(t, err, "team@b.test")
		// Removed, its addresses are free again.
		tcheck(t, s.RemoveList(ctx, sc, addr(t, "team@a.test")), "remove list")
		_, err = s.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: addr(t, "team-owner@a.test"), Password: testPassword, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox at a removed list's command address")
	})
}

func TestListResolve(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		s := tenantstest.Service(db, nil)
		listFixture(t, s)
		ctx := context.Background()
		for _, c := range []struct{ rcpt, role, arg string }{
			{"team@a.test", tenants.ListRolePost, ""},
			{"team-subscribe@a.test", tenants.ListRoleSubscribe, ""},
			{"team-unsubscribe@a.test", tenants.ListRoleUnsubscribe, ""},
			{"team-owner@a.test", tenants.ListRoleOwner, ""},
			{"team-bounces+12-abc@a.test", tenants.ListRoleBounces, "12-abc"},
			{"team-confirm+tok@a.test", tenants.ListRoleConfirm, "tok"},
		} {
			p, err := s.ResolveRecipient(ctx, addr(t, c.rcpt))
			if err != nil || p.List == nil || p.List.Role != c.role || p.List.Arg != c.arg || p.List.Address.String() != "team@a.test" {
				t.Errorf("%s: %+v, %v; want role %s arg %q", c.rcpt, p, err, c.role, c.arg)
			}
		}
		for _, r := range []string{"team+x@a.test", "team-subscribe+x@a.test", "team-bounces@a.test", "team-help@a.test"} {
			if _, err := s.ResolveRecipient(ctx, addr(t, r)); !errors.Is(err, tenants.ErrNoSuchUser) {
				t.Errorf("%s: %v, want ErrNoSuchUser", r, err)
			}
		}
		// A forward may not point at a list (it would post as whoever
		// wrote to the mailbox).
		if err := s.SetForwards(ctx, tenants.SystemScope("test"), addr(t, "alice@a.test"), []address.Address{addr(t, "team@a.test")}, true); err == nil {
			t.Error("a forward to a list was taken")
		}
	})
}

func TestListMembersAndScope(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		s := tenantstest.Service(db, nil)
		listFixture(t, s)
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		team := addr(t, "team@a.test")
		tcheck(t, s.AddListMembers(ctx, sc, team, []address.Address{addr(t, "alice@a.test"), addr(t, "x@ext.test")}), "add")
		// All or none: one bad address leaves the others out too.
		for _, bad := range []string{"team@a.test", "team-owner@a.test"} {
			err := s.AddListMembers(ctx, sc, team, []address.Address{addr(t, "new@ext.test"), addr(t, bad)})
			var ve *tenants.ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("member %s: %v, want a validation error", bad, err)
			}
		}
		_, err := s.CreateList(ctx, sc, tenants.ListInput{Address: addr(t, "other@b.test")})
		tcheck(t, err, "other list")
		if err := s.AddListMembers(ctx, sc, team, []address.Address{addr(t, "other@b.test")}); err == nil {
			t.Error("a list of ours was taken as a member of another")
		}
		if got := strings.Join(memberAddrs(t, s, "team@a.test"), " "); got != "alice@a.test x@ext.test" {
			t.Errorf("members %q", got)
		}
		if err := s.RemoveListMembers(ctx, sc, team, []address.Address{addr(t, "x@ext.test"), addr(t, "nobody@ext.test")}); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("remove with a non-member: %v", err)
		}
		if got := len(memberAddrs(t, s, "team@a.test")); got != 2 {
			t.Errorf("a failed remove removed some: %d left", got)
		}
		// b.test's postmaster reaches nothing of a.test's lists.
		d, err := s.Domain(ctx, sc, dom(t, "b.test"))
		tcheck(t, err, "domain b")
		pm := tenants.Scope{Role: tenants.RolePostmaster, Actor: "pm@b.test", DomainID: d.ID}
		if _, err := s.ListMembers(ctx, pm, team); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("other domain's postmaster reading members: %v", err)
		}
		if err := s.AddListMembers(ctx, pm, team, []address.Address{addr(t, "y@ext.test")}); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("other domain's postmaster adding: %v", err)
		}
		if err := s.RemoveList(ctx, pm, team); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("other domain's postmaster removing: %v", err)
		}
		// Posters of a discussion list: members and owners; never the
		// null sender or a stranger.
		l, err := s.List(ctx, sc, team)
		tcheck(t, err, "list")
		for who, want := range map[string]tenants.PostDecision{"alice@a.test": tenants.PostAccept, "owner@a.test": tenants.PostAccept,
			"stranger@ext.test": tenants.PostRefuse, "": tenants.PostRefuse} {
			var a address.Address
			if who != "" {
				a = addr(t, who)
			}
			if got, err := s.ListPoster(ctx, l, a); err != nil || got != want {
				t.Errorf("poster %q: %v %v, want %v", who, got, err, want)
			}
		}
	})
}

// Whoever mails LIST-subscribe@ chooses the address the confirmation goes
// to: the requests are bounded per address and per source, and a token
// works once.
func TestListRequestLimitsAndTokens(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		s := tenantstest.Service(db, func() time.Time { return now })
		l := listFixture(t, s)
		ctx := context.Background()
		victim := addr(t, "victim@ext.test")
		var tokens []string
		for i := 0; i < tenants.MaxListRequestsPerAddress; i++ {
			tok, err := s.RequestListChange(ctx, l, victim, tenants.ListRoleSubscribe, fmt.Sprintf("198.51.100.%d", i))
			tcheck(t, err, "request")
			tokens = append(tokens, tok)
		}
		if _, err := s.RequestListChange(ctx, l, victim, tenants.ListRoleSubscribe, "198.51.100.99"); !errors.Is(err, tenants.ErrListRequestLimit) {
			t.Errorf("request past the per-address limit: %v", err)
		}
		for i := 0; i < tenants.MaxListRequestsPerSource+5; i++ {
			_, err := s.RequestListChange(ctx, l, addr(t, fmt.Sprintf("v%d@ext.test", i)), tenants.ListRoleSubscribe, "203.0.113.7")
			if i < tenants.MaxListRequestsPerSource && err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if i >= tenants.MaxListRequestsPerSource && !errors.Is(err, tenants.ErrListRequestLimit) {
				t.Fatalf("request %d past the per-source limit: %v", i, err)
			}
		}
		// A day later the address may ask again.
		now = now.Add(25 * time.Hour)
		if _, err := s.RequestListChange(ctx, l, victim, tenants.ListRoleSubscribe, "198.51.100.99"); err != nil {
			t.Errorf("request a day later: %v", err)
		}
		// Expired tokens (72 hours) do nothing; a fresh one works once.
		now = now.Add(48 * time.Hour)
		if _, err := s.ConfirmListRequest(ctx, tokens[0], ""); !errors.Is(err, tenants.ErrBadToken) {
			t.Errorf("expired token: %v", err)
		}
		tok, err := s.RequestListChange(ctx, l, addr(t, "fresh@ext.test"), tenants.ListRoleSubscribe, "192.0.2.1")
		tcheck(t, err, "request")
		ch, err := s.ConfirmListRequest(ctx, strings.ToUpper(tok), "")
		if err != nil || ch.Address != "fresh@ext.test" || ch.Action != tenants.ListRoleSubscribe {
			t.Fatalf("confirm: %+v %v", ch, err)
		}
		if _, err := s.ConfirmListRequest(ctx, tok, ""); !errors.Is(err, tenants.ErrBadToken) {
			t.Errorf("replayed token: %v", err)
		}
		// Nothing to confirm for a member: no token, no mail.
		if tok, err := s.RequestListChange(ctx, l, addr(t, "fresh@ext.test"), tenants.ListRoleSubscribe, "192.0.2.1"); tok != "" || err != nil {
			t.Errorf("subscribe a member: %q %v", tok, err)
		}
		if tok, err := s.RequestListChange(ctx, l, addr(t, "nobody@ext.test"), tenants.ListRoleUnsubscribe, "192.0.2.1"); tok != "" || err != nil {
			t.Errorf("unsubscribe a non-member: %q %v", tok, err)
		}
	})
}

func TestSignerAndOneClick(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		s := tenantstest.Service(db, func() time.Time { return now })
		l := listFixture(t, s)
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		tcheck(t, s.AddListMembers(ctx, sc, addr(t, "team@a.test"), []address.Address{addr(t, "alice@a.test"), addr(t, "x@ext.test")}), "add")

		g, err := s.Signer(ctx)
		tcheck(t, err, "signer")
		// A second Service on the same database verifies what the first signed.
		g2, err := tenantstest.Service(db, func() time.Time { return now }).Signer(ctx)
		tcheck(t, err, "second signer")
		tok := g.Sign("test", time.Hour, "1", "a@b")
		if v, err := g2.Verify(tok, "test"); err != nil || strings.Join(v, ",") != "1,a@b" {
			t.Errorf("verify: %v %v", v, err)
		}
		if _, err := g.Verify(tok, "other"); !errors.Is(err, tenants.ErrBadToken) {
			t.Errorf("other purpose: %v", err)
		}
		for i := 0; i < len(tok); i++ {
			b := []byte(tok)
			b[i] ^= 1
			if _, err := g.Verify(string(b), "test"); err == nil {
				t.Fatalf("token changed at %d verified", i)
			}
		}

		tok, err = s.UnsubscribeToken(ctx, l, "alice@a.test")
		tcheck(t, err, "unsubscribe token")
		forged := g.Sign("list-unsubscribe", time.Hour, fmt.Sprint(l.ID), "x@ext.test")
		if _, err := s.UnsubscribeByToken(ctx, forged[:len(forged)-2]+"AA", ""); !errors.Is(err, tenants.ErrBadToken) {
			t.Errorf("forged: %v", err)
		}
		ch, err := s.UnsubscribeByToken(ctx, tok, "192.0.2.1")
		if err != nil || ch.Address != "alice@a.test" || ch.List != "team@a.test" {
			t.Fatalf("one-click: %+v %v", ch, err)
		}
		if got := strings.Join(memberAddrs(t, s, "team@a.test"), " "); got != "x@ext.test" {
			t.Errorf("members after one-click %q", got)
		}
		// A replay changes nothing more; an old link is refused.
		if _, err := s.UnsubscribeByToken(ctx, tok, ""); err != nil {
			t.Errorf("replay: %v", err)
		}
		now = now.Add(tenants.UnsubscribeLinkTTL + time.Hour)
		if _, err := s.UnsubscribeByToken(ctx, tok, ""); !errors.Is(err, tenants.ErrTokenExpired) {
			t.Errorf("expired: %v", err)
		}
	})
}

func TestListBounceThreshold(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		s := tenantstest.Service(db, nil)
		l := listFixture(t, s) // threshold 2
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		tcheck(t, s.AddListMembers(ctx, sc, addr(t, "team@a.test"), []address.Address{addr(t, "x@ext.test")}), "add")
		ms, err := s.ListRecipients(ctx, l)
		tcheck(t, err, "recipients")
		var x *tenants.ListMember
		for i := range ms {
			if ms[i].Address == "x@ext.test" {
				x = &ms[i]
			}
		}
		verp, err := s.VERPLocal(ctx, l, x)
		tcheck(t, err, "verp")
		p, err := s.ResolveRecipient(ctx, addr(t, verp+"@a.test"))
		tcheck(t, err, "resolve verp")
		// A VERP argument whose MAC is wrong counts nothing.
		bad := p.List.Arg[:len(p.List.Arg)-1] + "z"
		if bad == p.List.Arg {
			bad = p.List.Arg[:len(p.List.Arg)-1] + "y"
		}
		if _, ok, err := s.RecordListBounce(ctx, l, bad); ok || err != nil {
			t.Errorf("forged VERP: %v %v", ok, err)
		}
		res, ok, err := s.RecordListBounce(ctx, l, p.List.Arg)
		if !ok || err != nil || res.Disabled || res.Member != "x@ext.test" {
			t.Fatalf("first bounce: %+v %v %v", res, ok, err)
		}
		res, ok, err = s.RecordListBounce(ctx, l, p.List.Arg)
		if !ok || err != nil || !res.Disabled || strings.Join(res.Owners, ",") != "owner@a.test" {
			t.Fatalf("second bounce: %+v %v %v", res, ok, err)
		}
		ms, err = s.ListRecipients(ctx, l)
		tcheck(t, err, "recipients")
		for _, m := range ms {
			if m.Address == "x@ext.test" {
				t.Error("a disabled member still receives posts")
			}
		}
	})
}

// The bulk import follows the same rule: a list's address and its command
// addresses are taken, as username or alias.
func TestListAddressBulkImport(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		s := tenantstest.Service(db, nil)
		listFixture(t, s)
		ctx := context.Background()
		rows := []tenants.ImportRow{
			{Line: 2, Username: "team-owner", Password: testPassword},
			{Line: 3, Username: "fine", Password: testPassword, Aliases: "team-bounces"},
			{Line: 4, Username: "team", Password: testPassword},
			{Line: 5, Username: "other", Password: testPassword},
		}
		plan, err := s.CheckImport(ctx, tenants.SystemScope("test"), dom(t, "a.test"), "", rows)
		tcheck(t, err, "check import")
		lines := map[int]bool{}
		for _, p := range plan.Problems {
			lines[p.Line] = true
		}
		if !lines[2] || !lines[3] || !lines[4] || lines[5] {
			t.Errorf("problems %+v: want lines 2, 3 and 4", plan.Problems)
		}
	})
}
