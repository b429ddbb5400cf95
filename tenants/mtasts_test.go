package tenants_test

import (
	"context"
	"errors"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestMTASTSMode: a domain serves no policy until its mode is set; then
// the policy names the mail host and the mode; the mode is checked, set
// by the domain's postmaster or an administrator only, and an inactive
// domain serves nothing.
func TestMTASTSMode(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := tenantstest.Service(db, nil)
		sc := tenants.SystemScope("test")
		a, err := s.CreateDomain(ctx, sc, dom(t, "a.test"), "")
		tcheck(t, err, "create a.test")
		b, err := s.CreateDomain(ctx, sc, dom(t, "b.test"), "")
		tcheck(t, err, "create b.test")
		if got, err := s.Domain(ctx, sc, dom(t, "a.test")); err != nil || got.MTASTSMode != tenants.MTASTSNone {
			t.Errorf("new domain's mode %q (%v)", got.MTASTSMode, err)
		}
		if _, err := s.MTASTSPolicy(ctx, dom(t, "a.test"), ""); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("policy with mode none: %v", err)
		}
		pmA := tenants.Scope{Role: tenants.RolePostmaster, DomainID: a.ID, Actor: "pm@a.test"}
		pmB := tenants.Scope{Role: tenants.RolePostmaster, DomainID: b.ID, Actor: "pm@b.test"}
		if err := s.SetMTASTSMode(ctx, pmB, dom(t, "a.test"), "enforce"); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("b's postmaster sets a.test's mode: %v", err)
		}
		if err := s.SetMTASTSMode(ctx, tenants.Scope{Role: tenants.RoleUser, DomainID: a.ID}, dom(t, "a.test"), "enforce"); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("a user sets the mode: %v", err)
		}
		var ve *tenants.ValidationError
		if err := s.SetMTASTSMode(ctx, pmA, dom(t, "a.test"), "strict"); !errors.As(err, &ve) || ve.Field != "mta_sts" {
			t.Errorf("mode strict: %v", err)
		}
		tcheck(t, s.SetMTASTSMode(ctx, pmA, dom(t, "a.test"), "Enforce"), "set enforce")
		p, err := s.MTASTSPolicy(ctx, dom(t, "a.test"), "")
		tcheck(t, err, "policy")
		if want := "version: STSv1\r\nmode: enforce\r\nmx: mail.a.test\r\nmax_age: 604800\r\n"; p != want {
			t.Errorf("policy %q, want %q", p, want)
		}
		tcheck(t, s.SetMTASTSMode(ctx, pmA, dom(t, "a.test"), "testing"), "set testing")
		if p, _ := s.MTASTSPolicy(ctx, dom(t, "a.test"), "mx.postdesk.test."); p != "version: STSv1\r\nmode: testing\r\nmx: mx.postdesk.test\r\nmax_age: 86400\r\n" {
			t.Errorf("testing policy %q", p)
		}
		off := false
		_, err = s.UpdateDomain(ctx, sc, dom(t, "a.test"), tenants.DomainUpdate{Active: &off})
		tcheck(t, err, "disable")
		if _, err := s.MTASTSPolicy(ctx, dom(t, "a.test"), ""); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("policy of an inactive domain: %v", err)
		}
		if _, err := s.MTASTSPolicy(ctx, dom(t, "c.test"), ""); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("policy of a domain not hosted: %v", err)
		}
	})
}
