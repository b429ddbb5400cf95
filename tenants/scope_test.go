package tenants_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Fixtures shared by this package's tests. Their names start with fx so
// that they do not collide with helpers of other test files in the package.

// fxPassword and fxPassword2 pass auth.CheckStrength for every fixture
// address.
const (
	fxPassword  = "Xk9#mq2!pLw7z"
	fxPassword2 = "ZiCnsg2Pd#yVBSQ!rgX8"
)

// fxT0 is where every fixture clock starts: whole seconds, so that both
// engines store it exactly.
var fxT0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fxClock is a replaceable clock that tests advance by hand.
type fxClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fxClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fx is one test's service on one engine, with the system scope.
type fx struct {
	t     *testing.T
	ctx   context.Context
	db    *database.DB
	svc   *tenants.Service
	clock *fxClock
	sys   tenants.Scope
}

func newFx(t *testing.T, db *database.DB) *fx {
	t.Helper()
	c := &fxClock{now: fxT0}
	return &fx{t: t, ctx: t.Context(), db: db, svc: tenantstest.Service(db, c.Now), clock: c, sys: tenants.SystemScope("test")}
}

func fxAddr(t testing.TB, s string) address.Address {
	t.Helper()
	a, err := address.ParseAddress(s)
	if err != nil {
		t.Fatalf("parse address %q: %v", s, err)
	}
	return a
}

func fxDom(t testing.TB, s string) address.Domain {
	t.Helper()
	d, err := address.ParseDomain(s)
	if err != nil {
		t.Fatalf("parse domain %q: %v", s, err)
	}
	return d
}

func (f *fx) addr(s string) address.Address { f.t.Helper(); return fxAddr(f.t, s) }
func (f *fx) dom(s string) address.Domain   { f.t.Helper(); return fxDom(f.t, s) }

// domain creates a domain with the system scope.
func (f *fx) domain(name string) *tenants.Domain {
	f.t.Helper()
	d, err := f.svc.CreateDomain(f.ctx, f.sys, f.dom(name), "")
	if err != nil {
		f.t.Fatalf("create domain %s: %v", name, err)
	}
	return d
}

// aliasDomain creates name as an alias domain of primary.
func (f *fx) aliasDomain(name, primary string) *tenants.Domain {
	f.t.Helper()
	f.domain(name)
	p := f.dom(primary)
	d, err := f.svc.UpdateDomain(f.ctx, f.sys, f.dom(name), tenants.DomainUpdate{AliasOf: &p})
	if err != nil {
		f.t.Fatalf("make %s an alias of %s: %v", name, primary, err)
	}
	return d
}

// mailbox creates a mailbox with fxPassword and the default settings,
// changed by the edit functions.
func (f *fx) mailbox(addr string, edit ...func(*tenants.NewMailbox)) *tenants.Mailbox {
	f.t.Helper()
	nm := tenants.NewMailbox{Address: f.addr(addr), Password: fxPassword, Settings: tenants.DefaultMailboxSettings()}
	for _, e := range edit {
		e(&nm)
	}
	m, err := f.svc.CreateMailbox(f.ctx, f.sys, nm)
	if err != nil {
		f.t.Fatalf("create mailbox %s: %v", addr, err)
	}
	return m
}

// alias adds alias as an alias of the mailbox target.
func (f *fx) alias(alias, target string) {
	f.t.Helper()
	if err := f.svc.AddAlias(f.ctx, f.sys, f.addr(alias), f.addr(target)); err != nil {
		f.t.Fatalf("add alias %s -> %s: %v", alias, target, err)
	}
}

// read returns the mailbox at addr, read back with the system scope.
func (f *fx) read(addr string) *tenants.Mailbox {
	f.t.Helper()
	m, err := f.svc.Mailbox(f.ctx, f.sys, f.addr(addr))
	if err != nil {
		f.t.Fatalf("read mailbox %s: %v", addr, err)
	}
	return m
}

// update changes the mailbox at addr with the system scope.
func (f *fx) update(addr string, u tenants.MailboxUpdate) *tenants.Mailbox {
	f.t.Helper()
	m, err := f.svc.UpdateMailbox(f.ctx, f.sys, f.addr(addr), u)
	if err != nil {
		f.t.Fatalf("update mailbox %s: %v", addr, err)
	}
	return m
}

// count counts the rows of a table matching where, straight from the
// database.
func (f *fx) count(table, where string, args ...any) int64 {
	f.t.Helper()
	var n int64
	q := f.db.Read(f.ctx).Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		f.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// userScope is the scope of a mailbox acting on itself, as Login.UserScope
// builds it.
func userScope(m *tenants.Mailbox, actor string) tenants.Scope {
	return tenants.Scope{Role: tenants.RoleUser, Actor: actor, DomainID: m.DomainID, MailboxID: m.ID}
}

func postmasterScope(d *tenants.Domain, actor string) tenants.Scope {
	return tenants.Scope{Role: tenants.RolePostmaster, Actor: actor, DomainID: d.ID}
}

func adminScope() tenants.Scope { return tenants.Scope{Role: tenants.RoleAdmin, Actor: "root"} }

func ptrTo[T any](v T) *T { return &v }

// wantValidation fails t unless err is a *ValidationError of field.
func wantValidation(t *testing.T, err error, field string) *tenants.ValidationError {
	t.Helper()
	var ve *tenants.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %v (%T), want a ValidationError of field %q", err, err, field)
	}
	if ve.Field != field {
		t.Fatalf("ValidationError of field %q (%v), want field %q", ve.Field, ve, field)
	}
	return ve
}

// unreachable reports whether err says the target is out of reach.
func unreachable(err error) bool {
	return errors.Is(err, tenants.ErrNotFound) || errors.Is(err, tenants.ErrForbidden)
}

// domainSnapshot is everything about one domain's rows that a foreign scope
// must not change, read with the system scope.
type domainSnapshot struct {
	Domain    *tenants.Domain
	Mailboxes []tenants.MailboxInfo
	Aliases   []tenants.Alias
	Forwards  map[string][]string
	StoreMail map[string]bool
	Responder map[string]*tenants.Responder
	Addresses int64
}

func (f *fx) snapshot(domain string) domainSnapshot {
	f.t.Helper()
	d, err := f.svc.Domain(f.ctx, f.sys, f.dom(domain))
	if err != nil {
		f.t.Fatalf("snapshot %s: %v", domain, err)
	}
	ms, _, err := f.svc.Mailboxes(f.ctx, f.sys, tenants.MailboxQuery{Domain: f.dom(domain)})
	if err != nil {
		f.t.Fatalf("snapshot %s: %v", domain, err)
	}
	as, err := f.svc.Aliases(f.ctx, f.sys, f.dom(domain), address.Address{})
	if err != nil {
		f.t.Fatalf("snapshot %s: %v", domain, err)
	}
	s := domainSnapshot{Domain: d, Mailboxes: ms, Aliases: as, Forwards: map[string][]string{},
		StoreMail: map[string]bool{}, Responder: map[string]*tenants.Responder{}}
	for _, m := range ms {
		fs, store, err := f.svc.Forwards(f.ctx, f.sys, f.addr(m.Address))
		if err != nil {
			f.t.Fatalf("snapshot %s: %v", domain, err)
		}
		s.Forwards[m.Address], s.StoreMail[m.Address] = fs, store
		if s.Responder[m.Address], err = f.svc.Responder(f.ctx, f.sys, f.addr(m.Address)); err != nil {
			f.t.Fatalf("snapshot %s: %v", domain, err)
		}
	}
	s.Addresses = f.count("addresses", "domain_id = ?", d.ID)
	return s
}

// twoTenants is the fixture of the isolation tests: domains a.example and
// b.example, each with mailboxes, an alias, forwards and a responder.
type twoTenants struct {
	*fx
	a, b           *tenants.Domain
	a1, a2, pm, b1 *tenants.Mailbox
}

func newTwoTenants(t *testing.T, db *database.DB) *twoTenants {
	t.Helper()
	f := newFx(t, db)
	tt := &twoTenants{fx: f, a: f.domain("a.example"), b: f.domain("b.example")}
	tt.a1 = f.mailbox("a1@a.example")
	tt.a2 = f.mailbox("a2@a.example")
	tt.pm = f.mailbox("pm@a.example", func(nm *tenants.NewMailbox) { nm.Settings.Postmaster = true })
	tt.b1 = f.mailbox("b1@b.example", func(nm *tenants.NewMailbox) { nm.FullName = "Bea One" })
	f.mailbox("b2@b.example")
	f.alias("info@b.example", "b1@b.example")
	f.alias("sales@a.example", "a1@a.example")
	for _, m := range []string{"a1@a.example", "b1@b.example"} {
		if err := f.svc.SetForwards(f.ctx, f.sys, f.addr(m), []address.Address{f.addr("out@remote.example")}, true); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetResponder(f.ctx, f.sys, f.addr(m), tenants.ResponderInput{Enabled: true, Subject: "Away", Body: "Back soon."}); err != nil {
			t.Fatal(err)
		}
	}
	max := int64(50)
	if _, err := f.svc.UpdateDomain(f.ctx, f.sys, f.dom("b.example"), tenants.DomainUpdate{MaxMailboxes: &max}); err != nil {
		t.Fatal(err)
	}
	return tt
}

// foreignOps are calls on b.example (and, with own set, on a.example) that
// a scope must not be able to make. Each returns the call's error.
type scopeOp struct {
	name string
	call func(sc tenants.Scope) error
}

func (tt *twoTenants) opsOn(domain, mailbox, alias string) []scopeOp {
	f := tt.fx
	ctx := f.ctx
	mb := f.addr(mailbox)
	dn := f.dom(domain)
	return []scopeOp{
		{"Mailbox", func(sc tenants.Scope) error { _, err := f.svc.Mailbox(ctx, sc, mb); return err }},
		{"MailboxByID", func(sc tenants.Scope) error {
			m := f.read(mailbox)
			_, err := f.svc.MailboxByID(ctx, sc, m.ID)
			return err
		}},
		{"Addresses", func(sc tenants.Scope) error { _, err := f.svc.Addresses(ctx, sc, f.read(mailbox)); return err }},
		{"Mailboxes of the domain", func(sc tenants.Scope) error {
			_, _, err := f.svc.Mailboxes(ctx, sc, tenants.MailboxQuery{Domain: dn})
			return err
		}},
		{"UpdateMailbox full name", func(sc tenants.Scope) error {
			_, err := f.svc.UpdateMailbox(ctx, sc, mb, tenants.MailboxUpdate{FullName: ptrTo("Mallory")})
			return err
		}},
		{"UpdateMailbox password", func(sc tenants.Scope) error {
			_, err := f.svc.UpdateMailbox(ctx, sc, mb, tenants.MailboxUpdate{Password: ptrTo(fxPassword2)})
			return err
		}},
		{"UpdateMailbox active", func(sc tenants.Scope) error {
			_, err := f.svc.UpdateMailbox(ctx, sc, mb, tenants.MailboxUpdate{Active: ptrTo(false)})
			return err
		}},
		{"UpdateMailbox quota", func(sc tenants.Scope) error {
			_, err := f.svc.UpdateMailbox(ctx, sc, mb, tenants.MailboxUpdate{QuotaBytes: ptrTo(int64(1))})
			return err
		}},
		{"DeleteMailbox", func(sc tenants.Scope) error { return f.svc.DeleteMailbox(ctx, sc, mb) }},
		{"CreateMailbox", func(sc tenants.Scope) error {
			_, err := f.svc.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: f.addr("new@" + domain), Password: fxPassword, Settings: tenants.DefaultMailboxSettings()})
			return err
		}},
		{"CreateMailbox over an alias", func(sc tenants.Scope) error {
			_, err := f.svc.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: f.addr(alias), Password: fxPassword, Settings: tenants.DefaultMailboxSettings()})
			return err
		}},
		{"AddAlias", func(sc tenants.Scope) error { return f.svc.AddAlias(ctx, sc, f.addr("extra@"+domain), mb) }},
		{"RemoveAlias", func(sc tenants.Scope) error { return f.svc.RemoveAlias(ctx, sc, f.addr(alias)) }},
		{"Aliases", func(sc tenants.Scope) error { _, err := f.svc.Aliases(ctx, sc, dn, address.Address{}); return err }},
		{"Aliases of the mailbox", func(sc tenants.Scope) error { _, err := f.svc.Aliases(ctx, sc, dn, mb); return err }},
		{"Forwards", func(sc tenants.Scope) error { _, _, err := f.svc.Forwards(ctx, sc, mb); return err }},
		{"SetForwards", func(sc tenants.Scope) error {
			return f.svc.SetForwards(ctx, sc, mb, []address.Address{f.addr("thief@evil.example")}, false)
		}},
		{"SetForwards clearing", func(sc tenants.Scope) error { return f.svc.SetForwards(ctx, sc, mb, nil, true) }},
		{"Responder", func(sc tenants.Scope) error { _, err := f.svc.Responder(ctx, sc, mb); return err }},
		{"SetResponder", func(sc tenants.Scope) error {
			return f.svc.SetResponder(ctx, sc, mb, tenants.ResponderInput{Enabled: true, Subject: "Hacked", Body: "Hacked"})
		}},
		{"DisableResponder", func(sc tenants.Scope) error { return f.svc.DisableResponder(ctx, sc, mb) }},
		{"Domain", func(sc tenants.Scope) error { _, err := f.svc.Domain(ctx, sc, dn); return err }},
		{"UpdateDomain", func(sc tenants.Scope) error {
			_, err := f.svc.UpdateDomain(ctx, sc, dn, tenants.DomainUpdate{Active: ptrTo(false), MaxMailboxes: ptrTo(int64(1))})
			return err
		}},
		{"UpdateDomain postmaster", func(sc tenants.Scope) error {
			_, err := f.svc.UpdateDomain(ctx, sc, dn, tenants.DomainUpdate{Postmaster: &mb})
			return err
		}},
		{"DeleteDomain", func(sc tenants.Scope) error { return f.svc.DeleteDomain(ctx, sc, dn, false) }},
		{"DeleteDomain force", func(sc tenants.Scope) error { return f.svc.DeleteDomain(ctx, sc, dn, true) }},
		{"CreateAPIKey", func(sc tenants.Scope) error { _, _, err := f.svc.CreateAPIKey(ctx, sc, dn, "x"); return err }},
		{"SetSystemPostmaster", func(sc tenants.Scope) error { return f.svc.SetSystemPostmaster(ctx, sc, mb) }},
	}
}

// checkOpsRefused runs every op with sc and checks that each is refused
// with ErrNotFound or ErrForbidden and that the domain's rows are unchanged.
func (tt *twoTenants) checkOpsRefused(t *testing.T, sc tenants.Scope, domain string, ops []scopeOp) {
	t.Helper()
	before := tt.snapshot(domain)
	for _, op := range ops {
		err := op.call(sc)
		if !unreachable(err) {
			t.Errorf("%s on %s: got %v, want ErrNotFound or ErrForbidden", op.name, domain, err)
		}
	}
	if after := tt.snapshot(domain); !reflect.DeepEqual(before, after) {
		t.Errorf("%s changed by a scope that does not reach it:\nbefore %+v\nafter  %+v", domain, before, after)
	}
}

func TestScopePostmasterIsolation(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		pmA := postmasterScope(tt.a, "pm@a.example")
		tt.checkOpsRefused(t, pmA, "b.example", tt.opsOn("b.example", "b1@b.example", "info@b.example"))

		// The same postmaster does reach its own domain.
		ctx, svc := tt.ctx, tt.svc
		if _, err := svc.Mailbox(ctx, pmA, tt.addr("a1@a.example")); err != nil {
			t.Errorf("own mailbox: %v", err)
		}
		if _, err := svc.CreateMailbox(ctx, pmA, tenants.NewMailbox{Address: tt.addr("new@a.example"), Password: fxPassword, Settings: tenants.DefaultMailboxSettings()}); err != nil {
			t.Errorf("create in own domain: %v", err)
		}
		if err := svc.AddAlias(ctx, pmA, tt.addr("hello@a.example"), tt.addr("new@a.example")); err != nil {
			t.Errorf("alias in own domain: %v", err)
		}
		if err := svc.SetForwards(ctx, pmA, tt.addr("a2@a.example"), []address.Address{tt.addr("x@remote.example")}, false); err != nil {
			t.Errorf("forwards in own domain: %v", err)
		}
		if _, err := svc.UpdateMailbox(ctx, pmA, tt.addr("a2@a.example"), tenants.MailboxUpdate{FullName: ptrTo("Ann Two")}); err != nil {
			t.Errorf("update in own domain: %v", err)
		}
		if err := svc.DeleteMailbox(ctx, pmA, tt.addr("new@a.example")); err != nil {
			t.Errorf("delete in own domain: %v", err)
		}
		// An alias in A pointing at B's mailbox is refused (alias and
		// mailbox in different domains, and B out of reach).
		if err := svc.AddAlias(ctx, pmA, tt.addr("steal@a.example"), tt.addr("b1@b.example")); err == nil {
			t.Errorf("alias in A to B's mailbox accepted")
		}
	})
}

func TestScopeListsShowOnlyOwnDomain(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc
		pmA := postmasterScope(tt.a, "pm@a.example")

		ms, total, err := svc.Mailboxes(ctx, pmA, tenants.MailboxQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if total != 3 || len(ms) != 3 {
			t.Errorf("postmaster of A lists %d mailboxes (total %d), want 3", len(ms), total)
		}
		for _, m := range ms {
			if m.DomainID != tt.a.ID || !strings.HasSuffix(m.Address, "@a.example") {
				t.Errorf("postmaster of A lists %s", m.Address)
			}
		}
		// A search that matches only B's rows finds nothing.
		for _, q := range []string{"b1", "bea", "b.example"} {
			ms, total, err := svc.Mailboxes(ctx, pmA, tenants.MailboxQuery{Search: q})
			if err != nil || total != 0 || len(ms) != 0 {
				t.Errorf("search %q with A's scope: %d rows, total %d, err %v", q, len(ms), total, err)
			}
		}

		ds, total, err := svc.Domains(ctx, pmA, tenants.DomainQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if total != 1 || len(ds) != 1 || ds[0].ID != tt.a.ID {
			t.Errorf("postmaster of A lists domains %+v (total %d), want only a.example", ds, total)
		}

		log, err := svc.AuditLog(ctx, pmA, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) == 0 {
			t.Errorf("postmaster of A sees no audit entries of A")
		}
		for _, e := range log {
			if e.DomainID == nil || *e.DomainID != tt.a.ID {
				t.Errorf("postmaster of A sees audit entry %+v", e)
			}
			if strings.Contains(e.Detail, "b.example") {
				t.Errorf("postmaster of A sees audit entry about B: %+v", e)
			}
		}

		ks, err := svc.APIKeys(ctx, pmA)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 0 {
			t.Errorf("postmaster of A lists %d API keys, want 0", len(ks))
		}

		// An administrator sees both.
		_, total, err = svc.Mailboxes(ctx, adminScope(), tenants.MailboxQuery{})
		if err != nil || total != 5 {
			t.Errorf("admin lists %d mailboxes (err %v), want 5", total, err)
		}
		_, total, err = svc.Domains(ctx, adminScope(), tenants.DomainQuery{})
		if err != nil || total != 2 {
			t.Errorf("admin lists %d domains (err %v), want 2", total, err)
		}
	})
}

func TestScopeUserReachesOwnMailboxOnly(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc
		u := userScope(tt.a1, "a1@a.example")

		// Another domain, and another mailbox of the own domain.
		tt.checkOpsRefused(t, u, "b.example", tt.opsOn("b.example", "b1@b.example", "info@b.example"))
		tt.checkOpsRefused(t, u, "a.example", []scopeOp{
			{"Mailbox of a2", func(sc tenants.Scope) error { _, err := svc.Mailbox(ctx, sc, tt.addr("a2@a.example")); return err }},
			{"MailboxByID of a2", func(sc tenants.Scope) error { _, err := svc.MailboxByID(ctx, sc, tt.a2.ID); return err }},
			{"password of a2", func(sc tenants.Scope) error {
				_, err := svc.UpdateMailbox(ctx, sc, tt.addr("a2@a.example"), tenants.MailboxUpdate{Password: ptrTo(fxPassword2)})
				return err
			}},
			{"forwards of a2", func(sc tenants.Scope) error {
				return svc.SetForwards(ctx, sc, tt.addr("a2@a.example"), []address.Address{tt.addr("x@remote.example")}, true)
			}},
			{"responder of a2", func(sc tenants.Scope) error {
				return svc.SetResponder(ctx, sc, tt.addr("a2@a.example"), tenants.ResponderInput{Enabled: true, Subject: "x", Body: "y"})
			}},
			{"read forwards of a2", func(sc tenants.Scope) error { _, _, err := svc.Forwards(ctx, sc, tt.addr("a2@a.example")); return err }},
			{"own settings: active", func(sc tenants.Scope) error {
				_, err := svc.UpdateMailbox(ctx, sc, tt.addr("a1@a.example"), tenants.MailboxUpdate{Active: ptrTo(false)})
				return err
			}},
			{"own settings: quota", func(sc tenants.Scope) error {
				_, err := svc.UpdateMailbox(ctx, sc, tt.addr("a1@a.example"), tenants.MailboxUpdate{QuotaBytes: ptrTo(int64(0))})
				return err
			}},
			{"own settings: postmaster", func(sc tenants.Scope) error {
				_, err := svc.UpdateMailbox(ctx, sc, tt.addr("a1@a.example"), tenants.MailboxUpdate{Postmaster: ptrTo(true)})
				return err
			}},
			{"own settings: hash", func(sc tenants.Scope) error {
				_, err := svc.UpdateMailbox(ctx, sc, tt.addr("a1@a.example"), tenants.MailboxUpdate{PasswordHash: ptrTo("$2a$04$abcdefghijklmnopqrstuu5Wv5QbE7G5fQ3aC9y3m8h8f3b5Kx1.6")})
				return err
			}},
			{"delete own mailbox", func(sc tenants.Scope) error { return svc.DeleteMailbox(ctx, sc, tt.addr("a1@a.example")) }},
			{"add own alias", func(sc tenants.Scope) error {
				return svc.AddAlias(ctx, sc, tt.addr("me@a.example"), tt.addr("a1@a.example"))
			}},
			{"remove own alias", func(sc tenants.Scope) error { return svc.RemoveAlias(ctx, sc, tt.addr("sales@a.example")) }},
			{"create mailbox", func(sc tenants.Scope) error {
				_, err := svc.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: tt.addr("new@a.example"), Password: fxPassword, Settings: tenants.DefaultMailboxSettings()})
				return err
			}},
			{"update domain", func(sc tenants.Scope) error {
				_, err := svc.UpdateDomain(ctx, sc, tt.dom("a.example"), tenants.DomainUpdate{Description: ptrTo("x")})
				return err
			}},
			{"audit log", func(sc tenants.Scope) error { _, err := svc.AuditLog(ctx, sc, 10, 0); return err }},
			{"API key of the domain", func(sc tenants.Scope) error {
				_, _, err := svc.CreateAPIKey(ctx, sc, tt.dom("a.example"), "x")
				return err
			}},
			{"unlock", func(sc tenants.Scope) error { return svc.Unlock(ctx, sc, "a2@a.example", "") }},
		})

		// The own mailbox: read, password, forwards, responder.
		ms, total, err := svc.Mailboxes(ctx, u, tenants.MailboxQuery{})
		if err != nil || total != 1 || len(ms) != 1 || ms[0].ID != tt.a1.ID {
			t.Errorf("user lists %+v (total %d, err %v), want only a1", ms, total, err)
		}
		if _, err := svc.Mailbox(ctx, u, tt.addr("a1@a.example")); err != nil {
			t.Errorf("read own mailbox: %v", err)
		}
		if _, err := svc.UpdateMailbox(ctx, u, tt.addr("a1@a.example"), tenants.MailboxUpdate{Password: ptrTo(fxPassword2)}); err != nil {
			t.Errorf("change own password: %v", err)
		}
		if err := svc.SetForwards(ctx, u, tt.addr("a1@a.example"), []address.Address{tt.addr("me@remote.example")}, true); err != nil {
			t.Errorf("set own forwards: %v", err)
		}
		if err := svc.SetResponder(ctx, u, tt.addr("a1@a.example"), tenants.ResponderInput{Enabled: true, Subject: "Off", Body: "Gone fishing."}); err != nil {
			t.Errorf("set own responder: %v", err)
		}
		as, err := svc.Aliases(ctx, u, tt.dom("a.example"), address.Address{})
		if err != nil || len(as) != 1 || as[0].Address != "sales@a.example" {
			t.Errorf("user lists aliases %+v (err %v), want only its own sales@a.example", as, err)
		}
	})
}

func TestScopeZeroReachesNothing(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc
		for name, sc := range map[string]tenants.Scope{
			"zero":                    {},
			"postmaster without id":   {Role: tenants.RolePostmaster, Actor: "x"},
			"user without mailbox id": {Role: tenants.RoleUser, Actor: "x", DomainID: tt.a.ID},
			"user without domain id":  {Role: tenants.RoleUser, Actor: "x", MailboxID: tt.a1.ID},
			"unknown role":            {Role: tenants.Role(99), Actor: "x", DomainID: tt.a.ID, MailboxID: tt.a1.ID},
			"postmaster of no domain": {Role: tenants.RolePostmaster, Actor: "x", DomainID: 424242},
		} {
			t.Run(name, func(t *testing.T) {
				tt.checkOpsRefused(t, sc, "a.example", tt.opsOn("a.example", "a1@a.example", "sales@a.example"))
				tt.checkOpsRefused(t, sc, "b.example", tt.opsOn("b.example", "b1@b.example", "info@b.example"))
				if _, err := svc.CreateDomain(ctx, sc, tt.dom("c.example"), ""); !unreachable(err) {
					t.Errorf("CreateDomain: %v", err)
				}
				if _, _, err := svc.CreateAPIKey(ctx, sc, "", "x"); !unreachable(err) {
					t.Errorf("CreateAPIKey for admin: %v", err)
				}
				if ms, total, err := svc.Mailboxes(ctx, sc, tenants.MailboxQuery{}); err != nil || total != 0 || len(ms) != 0 {
					t.Errorf("Mailboxes: %d rows, total %d, err %v", len(ms), total, err)
				}
				if ds, total, err := svc.Domains(ctx, sc, tenants.DomainQuery{}); err != nil || total != 0 || len(ds) != 0 {
					t.Errorf("Domains: %d rows, total %d, err %v", len(ds), total, err)
				}
				if es, err := svc.AuditLog(ctx, sc, 100, 0); !unreachable(err) && len(es) != 0 {
					t.Errorf("AuditLog: %d entries, err %v", len(es), err)
				}
			})
		}
	})
}

func TestScopeOnlyAdminsManageDomainsAndPostmasters(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc
		pmA := postmasterScope(tt.a, "pm@a.example")
		a := tt.dom("a.example")

		if _, err := svc.CreateDomain(ctx, pmA, tt.dom("c.example"), ""); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster creates a domain: %v", err)
		}
		if err := svc.DeleteDomain(ctx, pmA, a, true); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster deletes own domain: %v", err)
		}
		if _, err := svc.UpdateDomain(ctx, pmA, a, tenants.DomainUpdate{MaxMailboxes: ptrTo(int64(1000))}); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster raises own limits: %v", err)
		}
		if _, err := svc.CreateMailbox(ctx, pmA, tenants.NewMailbox{Address: tt.addr("boss@a.example"), Password: fxPassword,
			Settings: tenants.MailboxSettings{Active: true, StoreMail: true, Postmaster: true}}); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster creates a postmaster: %v", err)
		}
		if _, err := svc.UpdateMailbox(ctx, pmA, tt.addr("a1@a.example"), tenants.MailboxUpdate{Postmaster: ptrTo(true)}); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster names a postmaster: %v", err)
		}
		if _, err := svc.CreateAdmin(ctx, pmA, "evil", fxPassword); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster creates an admin: %v", err)
		}
		if _, err := svc.Admins(ctx, pmA); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster lists admins: %v", err)
		}
		if err := svc.Unlock(ctx, pmA, "a1@a.example", ""); !errors.Is(err, tenants.ErrForbidden) {
			t.Errorf("postmaster unlocks: %v", err)
		}
		if m := tt.read("a1@a.example"); m.Postmaster {
			t.Errorf("a1 became a postmaster")
		}
		if _, err := svc.Mailbox(ctx, tt.sys, tt.addr("boss@a.example")); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("boss@a.example exists: %v", err)
		}

		admin := adminScope()
		if _, err := svc.CreateDomain(ctx, admin, tt.dom("c.example"), ""); err != nil {
			t.Errorf("admin creates a domain: %v", err)
		}
		if m, err := svc.UpdateMailbox(ctx, admin, tt.addr("a1@a.example"), tenants.MailboxUpdate{Postmaster: ptrTo(true)}); err != nil || !m.Postmaster {
			t.Errorf("admin names a postmaster: %v", err)
		}
		if err := svc.DeleteDomain(ctx, admin, tt.dom("c.example"), false); err != nil {
			t.Errorf("admin deletes a domain: %v", err)
		}
	})
}

// TestLoginScopes checks the scopes a login grants.
func TestLoginScopes(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		tt := newTwoTenants(t, db)
		ctx, svc := tt.ctx, tt.svc
		for _, c := range []struct {
			login   string
			manager tenants.Role
		}{{"a1@a.example", tenants.RoleUser}, {"pm@a.example", tenants.RolePostmaster}} {
			l, err := svc.ResolveLogin(ctx, tenants.PanelLogin, c.login, fxPassword, "192.0.2.1:1000")
			if err != nil {
				t.Fatalf("login %s: %v", c.login, err)
			}
			us := l.UserScope("192.0.2.1")
			if us.Role != tenants.RoleUser || us.DomainID != tt.a.ID || us.MailboxID != l.Mailbox.ID || us.Actor != c.login || us.RemoteAddr != "192.0.2.1" {
				t.Errorf("%s: UserScope %+v", c.login, us)
			}
			ms := l.ManagerScope("192.0.2.1")
			if ms.Role != c.manager || ms.DomainID != tt.a.ID {
				t.Errorf("%s: ManagerScope %+v, want role %v", c.login, ms, c.manager)
			}
			// The manager scope of a postmaster still does not reach B.
			if _, err := svc.Mailbox(ctx, ms, tt.addr("b1@b.example")); !unreachable(err) {
				t.Errorf("%s: manager scope reads B: %v", c.login, err)
			}
		}
	})
}
