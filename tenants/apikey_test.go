package tenants_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/auth"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestAPIKeys(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc

		adminKey, ak, err := svc.CreateAPIKey(ctx, tt.sys, "", "provisioning")
		if err != nil {
			t.Fatal(err)
		}
		domainKey, dk, err := svc.CreateAPIKey(ctx, adminScope(), tt.dom("a.example"), "a's panel")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			key string
			k   *tenants.APIKey
		}{{adminKey, ak}, {domainKey, dk}} {
			if !strings.HasPrefix(c.key, "pd_") || c.k.Prefix != c.key[:auth.APIKeyPrefixLen] {
				t.Errorf("key %q with prefix %q", c.key, c.k.Prefix)
			}
			if c.k.Hash == "" || c.k.Hash == c.key || strings.Contains(c.k.Hash, c.key[len(c.k.Prefix):]) {
				t.Errorf("stored hash %q reveals the key", c.k.Hash)
			}
		}
		if ak.DomainID != nil || dk.DomainID == nil || *dk.DomainID != tt.a.ID {
			t.Errorf("domains: admin key %v, domain key %v", ak.DomainID, dk.DomainID)
		}
		// What is stored is the hash, never the key.
		stored, err := svc.APIKeys(ctx, tt.sys)
		if err != nil || len(stored) != 2 {
			t.Fatalf("stored keys %+v, %v", stored, err)
		}
		for _, k := range stored {
			if k.Hash == adminKey || k.Hash == domainKey || !auth.VerifyAPIKey(map[string]string{ak.Prefix: adminKey, dk.Prefix: domainKey}[k.Prefix], k.Hash) {
				t.Errorf("stored row %+v", k)
			}
		}
		if n := tt.count("api_keys", "hash = ? OR hash = ? OR prefix = ? OR prefix = ?", adminKey, domainKey, adminKey, domainKey); n != 0 {
			t.Errorf("%d rows hold a key in clear", n)
		}

		sc, err := svc.AuthenticateAPIKey(ctx, adminKey, "192.0.2.8")
		if err != nil || sc.Role != tenants.RoleAdmin || sc.Actor != "apikey:"+ak.Prefix || sc.RemoteAddr != "192.0.2.8" || sc.DomainID != 0 {
			t.Errorf("admin key: %+v, %v", sc, err)
		}
		sc, err = svc.AuthenticateAPIKey(ctx, domainKey, "192.0.2.8")
		if err != nil || sc.Role != tenants.RolePostmaster || sc.DomainID != tt.a.ID || sc.Actor != "apikey:"+dk.Prefix {
			t.Fatalf("domain key: %+v, %v", sc, err)
		}
		// The domain key's scope reaches a.example only.
		if _, err := svc.Mailbox(ctx, sc, tt.addr("b1@b.example")); !unreachable(err) {
			t.Errorf("domain key reads b.example: %v", err)
		}
		if _, err := svc.Mailbox(ctx, sc, tt.addr("a1@a.example")); err != nil {
			t.Errorf("domain key reads a.example: %v", err)
		}

		unknownKey, _, _, err := auth.NewAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		wrongTail := domainKey[:len(domainKey)-4] + fxFlip(domainKey[len(domainKey)-4:])
		for name, key := range map[string]string{
			"wrong key, known prefix": wrongTail,
			"unknown prefix":          unknownKey,
			"empty":                   "",
			"prefix only":             dk.Prefix,
			"upper case":              strings.ToUpper(domainKey),
			"trailing space":          domainKey + " ",
			"hash as key":             dk.Hash,
		} {
			if sc, err := svc.AuthenticateAPIKey(ctx, key, "192.0.2.8"); !errors.Is(err, tenants.ErrBadAPIKey) || sc != (tenants.Scope{}) {
				t.Errorf("%s: %+v, %v; want ErrBadAPIKey", name, sc, err)
			}
		}

		_, _, err = svc.CreateAPIKey(ctx, tt.sys, "", "two\nlines")
		wantValidation(t, err, "description")

		es, err := svc.AuditLog(ctx, postmasterScope(tt.a, "pm"), 1, 0)
		if err != nil || len(es) != 1 || es[0].Action != "apikey.create" || es[0].Actor != "root" || strings.Contains(es[0].Detail, domainKey) {
			t.Errorf("audit %+v, %v", es, err)
		}

		// Revoked keys no longer authenticate.
		if err := svc.DeleteAPIKey(ctx, adminScope(), dk.Prefix); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AuthenticateAPIKey(ctx, domainKey, ""); !errors.Is(err, tenants.ErrBadAPIKey) {
			t.Errorf("revoked key: %v", err)
		}
		if err := svc.DeleteAPIKey(ctx, adminScope(), dk.Prefix); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("second revoke: %v", err)
		}
	})
}

func fxFlip(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
	}
	return string(b)
}

func TestAPIKeyScopes(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc
		pmA := postmasterScope(tt.a, "pm@a.example")
		adminKey, ak, err := svc.CreateAPIKey(ctx, tt.sys, "", "admin")
		if err != nil {
			t.Fatal(err)
		}
		bKey, bk, err := svc.CreateAPIKey(ctx, tt.sys, tt.dom("b.example"), "b")
		if err != nil {
			t.Fatal(err)
		}

		// A postmaster makes keys for the own domain only, never admin keys.
		if _, _, err := svc.CreateAPIKey(ctx, pmA, "", "x"); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster makes an admin key: %v", err)
		}
		if _, _, err := svc.CreateAPIKey(ctx, pmA, tt.dom("b.example"), "x"); !unreachable(err) {
			t.Errorf("postmaster makes a key for B: %v", err)
		}
		_, ownKey, err := svc.CreateAPIKey(ctx, pmA, tt.dom("a.example"), "own")
		if err != nil {
			t.Fatalf("postmaster makes a key for A: %v", err)
		}
		// A user makes none.
		if _, _, err := svc.CreateAPIKey(ctx, userScope(tt.a1, "a1"), tt.dom("a.example"), "x"); !unreachable(err) {
			t.Errorf("user makes a key: %v", err)
		}

		ks, err := svc.APIKeys(ctx, pmA)
		if err != nil || len(ks) != 1 || ks[0].Prefix != ownKey.Prefix {
			t.Errorf("postmaster of A lists %+v, %v", ks, err)
		}
		for _, p := range []string{ak.Prefix, bk.Prefix} {
			if err := svc.DeleteAPIKey(ctx, pmA, p); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("postmaster of A revokes %s: %v", p, err)
			}
		}
		for _, k := range []string{adminKey, bKey} {
			if _, err := svc.AuthenticateAPIKey(ctx, k, ""); err != nil {
				t.Errorf("key revoked by a foreign scope: %v", err)
			}
		}
		if err := svc.DeleteAPIKey(ctx, pmA, ownKey.Prefix); err != nil {
			t.Errorf("postmaster revokes own key: %v", err)
		}
		if ks, err := svc.APIKeys(ctx, tenants.Scope{}); err != nil || len(ks) != 0 {
			t.Errorf("zero scope lists %+v, %v", ks, err)
		}
		if err := svc.DeleteAPIKey(ctx, tenants.Scope{}, ak.Prefix); !unreachable(err) {
			t.Errorf("zero scope revokes: %v", err)
		}
	})
}

// TestUserScopeCannotSeeOrRevokeAPIKeys: APIKeys and DeleteAPIKey
// (apikey.go) apply only sc.domains("domain_id"), which lets a RoleUser
// scope through to its domain's keys: any mailbox user can list the
// domain's provisioning keys (prefixes and hashes) and revoke them.
// CreateAPIKey refuses users (mayManageDomain). Expected to fail until both
// refuse RoleUser as CreateAPIKey does.
func TestUserScopeCannotSeeOrRevokeAPIKeys(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc
		key, k, err := svc.CreateAPIKey(ctx, tt.sys, tt.dom("a.example"), "a's provisioning")
		if err != nil {
			t.Fatal(err)
		}
		user := userScope(tt.a1, "a1@a.example")
		if ks, err := svc.APIKeys(ctx, user); !unreachable(err) && len(ks) != 0 {
			t.Errorf("a user lists the domain's API keys: %+v", ks)
		}
		if err := svc.DeleteAPIKey(ctx, user, k.Prefix); !unreachable(err) {
			t.Errorf("a user revokes the domain's API key: err %v", err)
		}
		if _, err := svc.AuthenticateAPIKey(ctx, key, ""); err != nil {
			t.Errorf("the domain's key after the user's attempt: %v", err)
		}
	})
}
