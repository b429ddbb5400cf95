package tenants_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/auth"
	"github.com/postdesk/postdesk/tenants/seal"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// dkimService is a tenants service that seals DKIM keys with the queue's
// sealer, as serve and the CLI do, under a key file in a temp folder.
func dkimService(t *testing.T, db *database.DB) (*tenants.Service, string) {
	keyFile := filepath.Join(t.TempDir(), "dkim.key")
	return tenants.New(db, tenants.Options{Hasher: auth.TestHasher(), Sealer: seal.New(keyFile)}), keyFile
}

// TestDKIMKeys: a domain's first pair (Ed25519 and RSA-2048, a selector
// each) signs at once; add refuses a second time; rotate makes a pending
// pair that signs only once activated, retiring the old; private keys are
// sealed in the database and never in what callers are shown; a
// postmaster reaches only their own domain's keys, users none.
func TestDKIMKeys(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, keyFile := dkimService(t, db)
		sc := tenants.SystemScope("test")
		a, err := s.CreateDomain(ctx, sc, dom(t, "a.test"), "")
		tcheck(t, err, "create a.test")
		b, err := s.CreateDomain(ctx, sc, dom(t, "b.test"), "")
		tcheck(t, err, "create b.test")

		keys, err := s.AddDKIMKeys(ctx, sc, dom(t, "a.test"))
		tcheck(t, err, "add keys")
		if len(keys) != 2 || keys[0].Algorithm != tenants.DKIMEd25519 || keys[1].Algorithm != tenants.DKIMRSA ||
			keys[0].Selector == keys[1].Selector || keys[0].State != tenants.DKIMActive || keys[1].State != tenants.DKIMActive {
			t.Fatalf("first keys: %+v", keys)
		}
		for _, k := range keys {
			r := k.Record
			if r.Name != k.Selector+"._domainkey.a.test." || strings.Join(r.Strings, "") != r.Value ||
				!strings.HasPrefix(r.Value, "v=DKIM1; k="+k.Algorithm+"; p=") {
				t.Errorf("record of %s: %+v", k.Selector, r)
			}
			for _, part := range r.Strings {
				if len(part) > 255 {
					t.Errorf("record of %s has a %d-octet string", k.Selector, len(part))
				}
			}
		}
		if len(keys[1].Record.Strings) < 2 {
			t.Errorf("the RSA-2048 record is not split: %d strings", len(keys[1].Record.Strings))
		}

		signers, err := s.DKIMSigners(ctx, dom(t, "a.test"))
		tcheck(t, err, "signers")
		if len(signers) != 2 {
			t.Fatalf("%d signers, want 2", len(signers))
		}
		for _, sg := range signers {
			switch k := sg.Key.(type) {
			case ed25519.PrivateKey:
				if sg.Algorithm != tenants.DKIMEd25519 {
					t.Errorf("Ed25519 key under %s", sg.Algorithm)
				}
			case *rsa.PrivateKey:
				if k.N.BitLen() != 2048 || sg.Algorithm != tenants.DKIMRSA {
					t.Errorf("RSA key of %d bits under %s", k.N.BitLen(), sg.Algorithm)
				}
			default:
				t.Errorf("key of type %T", sg.Key)
			}
		}
		if none, err := s.DKIMSigners(ctx, dom(t, "b.test")); err != nil || len(none) != 0 {
			t.Errorf("b.test without keys: %d signers, %v", len(none), err)
		}

		// Sealed at rest: no stored private key parses as base64 PKCS #8.
		var stored []string
		tcheck(t, db.Read(ctx).Table("dkim_keys").Pluck("private_key", &stored).Error, "read stored keys")
		for _, p := range stored {
			if !strings.HasPrefix(p, "v1:") {
				t.Errorf("private key stored unsealed: %.20s...", p)
			}
		}

		if _, err := s.AddDKIMKeys(ctx, sc, dom(t, "a.test")); !errors.Is(err, tenants.ErrExists) {
			t.Errorf("second add: %v, want ErrExists", err)
		}

		// Rotation: pending until activated, then the old pair retires.
		rot, err := s.RotateDKIMKeys(ctx, sc, dom(t, "a.test"))
		tcheck(t, err, "rotate")
		if rot[0].State != tenants.DKIMPending || rot[1].State != tenants.DKIMPending {
			t.Fatalf("rotated keys: %+v", rot)
		}
		var ve *tenants.ValidationError
		if _, err := s.RotateDKIMKeys(ctx, sc, dom(t, "a.test")); !errors.As(err, &ve) {
			t.Errorf("second rotation while one waits: %v, want a ValidationError", err)
		}
		signers, _ = s.DKIMSigners(ctx, dom(t, "a.test"))
		for _, sg := range signers {
			if sg.Selector == rot[0].Selector || sg.Selector == rot[1].Selector {
				t.Errorf("pending key %s signs before DNS shows it", sg.Selector)
			}
		}
		pend, err := s.PendingDKIMKeys(ctx)
		tcheck(t, err, "pending")
		if len(pend) != 1 || pend[0].DomainID != a.ID || len(pend[0].Records) != 2 {
			t.Fatalf("pending: %+v", pend)
		}
		tcheck(t, s.ActivateDKIMKeys(ctx, a.ID), "activate")
		signers, _ = s.DKIMSigners(ctx, dom(t, "a.test"))
		got := map[string]bool{}
		for _, sg := range signers {
			got[sg.Selector] = true
		}
		if len(signers) != 2 || !got[rot[0].Selector] || !got[rot[1].Selector] {
			t.Errorf("after activation the signers are %v, want the rotated pair", got)
		}
		all, err := s.DKIMKeys(ctx, sc, dom(t, "a.test"))
		tcheck(t, err, "list")
		states := map[string]string{}
		for _, k := range all {
			states[k.Selector] = k.State
		}
		if len(all) != 4 || states[keys[0].Selector] != tenants.DKIMRetired || states[rot[0].Selector] != tenants.DKIMActive {
			t.Errorf("after activation: %v", states)
		}

		// Scope: b.test's postmaster neither sees nor makes a.test's keys;
		// a user manages none.
		pmB := tenants.Scope{Role: tenants.RolePostmaster, DomainID: b.ID, Actor: "pm@b.test"}
		if _, err := s.DKIMKeys(ctx, pmB, dom(t, "a.test")); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("b's postmaster lists a.test's keys: %v", err)
		}
		if _, err := s.RotateDKIMKeys(ctx, pmB, dom(t, "a.test")); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("b's postmaster rotates a.test's keys: %v", err)
		}
		if _, err := s.AddDKIMKeys(ctx, pmB, dom(t, "b.test")); err != nil {
			t.Errorf("b's postmaster makes b.test's keys: %v", err)
		}
		user := tenants.Scope{Role: tenants.RoleUser, DomainID: b.ID, MailboxID: 1, Actor: "u@b.test"}
		if _, err := s.DKIMKeys(ctx, user, dom(t, "b.test")); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("a user lists keys: %v", err)
		}

		// Another key file does not open the keys: a copy of the database
		// alone gives nothing away.
		tcheck(t, os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)+"\n"), 0o600), "replace key file")
		other, _ := dkimService(t, db)
		if _, err := other.DKIMSigners(ctx, dom(t, "a.test")); err == nil {
			t.Error("keys open with another key file")
		}
	})
}

// TestDMARCForwarders: a domain's trusted forwarder networks are parsed
// and bounded (none wider than a /16 or /32), replaced whole, checked for
// the MX by the recipients' domains, and kept within the postmaster's
// domain.
func TestDMARCForwarders(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := tenantstest.Service(db, nil)
		sc := tenants.SystemScope("test")
		a, err := s.CreateDomain(ctx, sc, dom(t, "a.test"), "")
		tcheck(t, err, "create a.test")
		b, err := s.CreateDomain(ctx, sc, dom(t, "b.test"), "")
		tcheck(t, err, "create b.test")
		var ve *tenants.ValidationError
		for _, bad := range []string{"10.0.0.0/8", "::/0", "2001:db8::/16", "nonsense", "192.0.2.1/33"} {
			if _, err := tenants.ParseForwarders(bad); !errors.As(err, &ve) {
				t.Errorf("%q: %v, want a ValidationError", bad, err)
			}
		}
		nets, err := tenants.ParseForwarders("192.0.2.77/24, 2001:db8::1 198.51.100.7")
		tcheck(t, err, "parse")
		tcheck(t, s.SetDMARCForwarders(ctx, sc, dom(t, "a.test"), nets), "set")
		got, err := s.DMARCForwarders(ctx, sc, dom(t, "a.test"))
		tcheck(t, err, "list")
		if len(got) != 3 || got[0].String() != "192.0.2.0/24" {
			t.Errorf("networks: %v", got)
		}
		for _, tc := range []struct {
			domains []int64
			ip      string
			want    bool
		}{
			{[]int64{a.ID}, "192.0.2.200", true},
			{[]int64{a.ID}, "::ffff:198.51.100.7", true},
			{[]int64{a.ID}, "198.51.100.8", false},
			{[]int64{b.ID}, "192.0.2.200", false},
			{[]int64{b.ID, a.ID}, "2001:db8::1", true},
		} {
			ok, err := s.TrustsForwarder(ctx, tc.domains, netip.MustParseAddr(tc.ip))
			if err != nil || ok != tc.want {
				t.Errorf("%v trusts %s: %t %v, want %t", tc.domains, tc.ip, ok, err, tc.want)
			}
		}
		pmB := tenants.Scope{Role: tenants.RolePostmaster, DomainID: b.ID, Actor: "pm@b.test"}
		if err := s.SetDMARCForwarders(ctx, pmB, dom(t, "a.test"), nil); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("b's postmaster sets a.test's forwarders: %v", err)
		}
		tcheck(t, s.SetDMARCForwarders(ctx, sc, dom(t, "a.test"), nil), "clear")
		if got, _ := s.DMARCForwarders(ctx, sc, dom(t, "a.test")); len(got) != 0 {
			t.Errorf("after clearing: %v", got)
		}
	})
}
