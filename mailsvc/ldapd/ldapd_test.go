package ldapd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/go-ldap/ldap/v3"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/ldapd"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

const password = "Xk9#mq2!pLw7z"

type env struct {
	t       testing.TB
	ts      *tenants.Service
	addr    string // StartTLS
	tlsAddr string // LDAPS
	tls     *tls.Config
}

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// newEnv: a.test (ann, bob, hidden carol, postmaster pm with a GAB
// contact), b.test (dan); the server on two loopback listeners.
func newEnv(t testing.TB, db *database.DB, plaintext bool, mod ...func(*ldapd.Config)) *env {
	ctx := context.Background()
	e := &env{t: t, ts: tenantstest.Service(db, nil)}
	sc := tenants.SystemScope("test")
	for _, d := range []string{"a.test", "b.test"} {
		dom, _ := address.ParseDomain(d)
		_, err := e.ts.CreateDomain(ctx, sc, dom, "")
		tcheck(t, err, "domain")
	}
	for _, m := range []struct{ addr, name string }{{"ann@a.test", "Ann Able"}, {"bob@a.test", "Bob Baker"}, {"carol@a.test", "Carol Hidden"}, {"pm@a.test", ""}, {"dan@b.test", "Dan Dunn"}} {
		a, _ := address.ParseAddress(m.addr)
		st := tenants.DefaultMailboxSettings()
		st.Postmaster = strings.HasPrefix(m.addr, "pm@")
		_, err := e.ts.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: a, Password: password, FullName: m.name, Settings: st})
		tcheck(t, err, "mailbox")
	}
	sales, _ := address.ParseAddress("sales@a.test")
	annA, _ := address.ParseAddress("ann@a.test")
	tcheck(t, e.ts.AddAlias(ctx, sc, sales, annA), "alias")
	no := false
	carol, _ := address.ParseAddress("carol@a.test")
	_, err := e.ts.UpdateMailbox(ctx, sc, carol, tenants.MailboxUpdate{InDirectory: &no})
	tcheck(t, err, "hide carol")
	pm, err := e.ts.ResolveLogin(ctx, tenants.MailboxLogin, "pm@a.test", password, "")
	tcheck(t, err, "pm login")
	card := vcard.Card{}
	card.SetValue(vcard.FieldVersion, "3.0")
	card.SetValue(vcard.FieldUID, "gina-1")
	card.SetValue(vcard.FieldFormattedName, "Gina Global")
	card.SetName(&vcard.Name{FamilyName: "Global", GivenName: "Gina"})
	card.SetValue(vcard.FieldEmail, "gina@partner.example")
	card.SetValue(vcard.FieldTelephone, "+1 555 0100")
	card.SetValue(vcard.FieldOrganization, "Partner Ltd")
	card.SetValue(vcard.FieldTitle, "Buyer")
	_, _, err = e.ts.PutContact(ctx, pm, "gab", "gina.vcf", card, tenants.PutCondition{})
	tcheck(t, err, "GAB contact")

	dir := t.TempDir()
	certs, _, err := tlscert.Open("", "", dir, "localhost")
	tcheck(t, err, "tls")
	leaf, _ := certs.Leaf()
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	e.tls = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	cfg := ldapd.Config{Tenants: e.ts, TLS: certs.Config(), AllowPlaintextAuth: plaintext, Logger: slog.New(slog.DiscardHandler)}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := ldapd.New(cfg)
	tcheck(t, err, "server")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	tln, _ := net.Listen("tcp", "127.0.0.1:0")
	e.addr, e.tlsAddr = ln.Addr().String(), tln.Addr().String()
	go srv.Serve(ln)
	go srv.ServeTLS(tln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return e
}

// dial connects over StartTLS (or LDAPS) and binds as name.
func (e *env) dial(name string, ldaps bool) (*ldap.Conn, error) {
	var c *ldap.Conn
	var err error
	if ldaps {
		c, err = ldap.DialURL("ldaps://"+e.tlsAddr, ldap.DialWithTLSConfig(e.tls))
	} else {
		c, err = ldap.DialURL("ldap://" + e.addr)
		if err == nil {
			err = c.StartTLS(e.tls)
		}
	}
	if err != nil {
		return nil, err
	}
	e.t.Cleanup(func() { c.Close() })
	return c, c.Bind(name, password)
}

func mails(res *ldap.SearchResult) []string {
	var out []string
	for _, en := range res.Entries {
		out = append(out, en.GetAttributeValues("mail")...)
	}
	slices.Sort(out)
	return out
}

func search(c *ldap.Conn, base, filter string, attrs ...string) (*ldap.SearchResult, error) {
	return c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
}

func code(err error) uint16 {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}

// TestSearchConfined: each login form binds; searches answer from the
// binder's domain only, whatever base or filter; hidden mailboxes and
// personal contacts never show; the GAB contact carries its fields.
func TestSearchConfined(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, false)
		for _, name := range []string{"ann@a.test", "ann/a.test"} {
			for _, ldaps := range []bool{false, true} {
				c, err := e.dial(name, ldaps)
				tcheck(t, err, fmt.Sprintf("bind %s (ldaps %t)", name, ldaps))
				res, err := search(c, "dc=a,dc=test", "(|(cn=*bob*)(mail=bob*)(sn=bob*))", "cn", "mail")
				tcheck(t, err, "search")
				if got := mails(res); !slices.Equal(got, []string{"bob@a.test"}) {
					t.Fatalf("%s finds %v", name, got)
				}
			}
		}
		c, err := e.dial("ann@a.test", false)
		tcheck(t, err, "bind")
		all, err := search(c, "dc=a,dc=test", "(objectClass=inetOrgPerson)")
		tcheck(t, err, "search all")
		if got := mails(all); !slices.Equal(got, []string{"ann@a.test", "bob@a.test", "gina@partner.example", "pm@a.test", "sales@a.test"}) {
			t.Fatalf("all of a.test = %v", got)
		}
		res, err := search(c, "ou=contacts,dc=a,dc=test", "(mail=gina@partner.example)", "cn", "sn", "givenName", "mail", "telephoneNumber", "o", "title")
		tcheck(t, err, "GAB search")
		if len(res.Entries) != 1 {
			t.Fatalf("GAB entries %d", len(res.Entries))
		}
		g := res.Entries[0]
		for attr, want := range map[string]string{"cn": "Gina Global", "sn": "Global", "givenName": "Gina", "telephoneNumber": "+1 555 0100", "o": "Partner Ltd", "title": "Buyer"} {
			if got := g.GetAttributeValue(attr); got != want {
				t.Errorf("GAB %s = %q, want %q", attr, got, want)
			}
		}
		// Filters of every shape find what they match, whatever terms the
		// search reads by.
		for _, tc := range []struct{ filter, want string }{
			{"(mail=sales*)", "ann@a.test sales@a.test"},
			{"(mail=*@a.test)", "ann@a.test bob@a.test pm@a.test sales@a.test"},
			{"(&(objectClass=inetOrgPerson)(|(cn=*GIN*)(mail=gin*)))", "gina@partner.example"},
			{"(&(sn=Baker)(givenName=Bob))", "bob@a.test"},
			{"(!(|(mail=*@a.test)(cn=*gina*)))", ""},
			{"(telephoneNumber=+1 555 0100)", "gina@partner.example"},
			{"(|(o=partner*)(title=buyer))", "gina@partner.example"},
			{"(uid=pm)", "pm@a.test"},
			{"(cn=Ann Able)", "ann@a.test sales@a.test"},
			{"(|)", ""},
		} {
			res, err := search(c, "dc=a,dc=test", tc.filter, "mail")
			tcheck(t, err, tc.filter)
			if got := strings.Join(mails(res), " "); got != tc.want {
				t.Errorf("%s finds %q, want %q", tc.filter, got, tc.want)
			}
		}
		// Another domain's base: noSuchObject; a base above: own domain only.
		_, err = search(c, "dc=b,dc=test", "(objectClass=*)")
		if code(err) != ldap.LDAPResultNoSuchObject {
			t.Fatalf("dc=b,dc=test: %v", err)
		}
		res, err = search(c, "dc=test", "(mail=*)", "mail")
		tcheck(t, err, "dc=test")
		for _, m := range mails(res) {
			if strings.HasSuffix(m, "@b.test") {
				t.Fatalf("dc=test reaches b.test: %v", mails(res))
			}
		}
		res, err = search(c, "dc=a,dc=test", "(|(mail=carol*)(cn=*Hidden*)(mail=dan*))", "mail")
		tcheck(t, err, "hidden")
		if len(res.Entries) != 0 {
			t.Fatalf("hidden or foreign entries: %v", mails(res))
		}
		// dan sees b.test only.
		d, err := e.dial("dan@b.test", true)
		tcheck(t, err, "bind dan")
		res, err = search(d, "dc=b,dc=test", "(mail=*)", "mail")
		tcheck(t, err, "dan's search")
		if got := mails(res); !slices.Equal(got, []string{"dan@b.test"}) {
			t.Fatalf("dan finds %v", got)
		}
	})
}

// TestRefusals: anonymous, plain-text and wrong-password binds, searches
// before a bind, writes; hostile filters and oversized requests get an
// error and the server keeps serving others.
func TestRefusals(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, false)
		c, err := ldap.DialURL("ldap://" + e.addr)
		tcheck(t, err, "dial")
		defer c.Close()
		if err := c.Bind("ann@a.test", password); code(err) != ldap.LDAPResultConfidentialityRequired {
			t.Fatalf("plain-text bind: %v", err)
		}
		if _, err := search(c, "dc=a,dc=test", "(mail=*)"); code(err) != ldap.LDAPResultInsufficientAccessRights {
			t.Fatalf("search without a bind: %v", err)
		}
		tcheck(t, c.StartTLS(e.tls), "starttls")
		if err := c.UnauthenticatedBind(""); code(err) != ldap.LDAPResultInappropriateAuthentication {
			t.Fatalf("anonymous bind: %v", err)
		}
		if err := c.Bind("ann@a.test", "wrong-Password-9!"); code(err) != ldap.LDAPResultInvalidCredentials {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := search(c, "dc=a,dc=test", "(mail=*)"); code(err) != ldap.LDAPResultInsufficientAccessRights {
			t.Fatalf("search after a failed bind: %v", err)
		}
		tcheck(t, c.Bind("ann@a.test", password), "bind")
		deep := func(n int) string { return strings.Repeat("(!", n) + "(mail=*)" + strings.Repeat(")", n) }
		if _, err := search(c, "dc=a,dc=test", deep(20)); code(err) != ldap.LDAPResultUnwillingToPerform {
			t.Fatalf("a filter 20 deep: %v", err)
		}
		// 1,000 deep is past what the BER reader takes: that connection
		// ends (with a notice of disconnection), ann's goes on below.
		d1, err := e.dial("bob@a.test", false)
		tcheck(t, err, "bind bob")
		if _, err := search(d1, "dc=a,dc=test", deep(1000)); err == nil {
			t.Fatal("a filter 1,000 deep was answered")
		}
		if err := c.Del(ldap.NewDelRequest("uid=bob,ou=people,dc=a,dc=test", nil)); code(err) != ldap.LDAPResultUnwillingToPerform {
			t.Fatalf("a delete: %v", err)
		}
		res, err := c.Search(ldap.NewSearchRequest("dc=a,dc=test", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false, "(mail=*)", []string{"mail"}, nil))
		if code(err) != ldap.LDAPResultSizeLimitExceeded || res == nil || len(res.Entries) != 2 {
			t.Fatalf("size limit 2: %v, %v", res, err)
		}
		// A 1 MB filter ends that connection; others are served on.
		big, err := e.dial("bob@a.test", false)
		tcheck(t, err, "bind bob")
		huge := "(cn=" + strings.Repeat("x", 1<<20) + ")"
		if _, err := search(big, "dc=a,dc=test", huge); err == nil {
			t.Fatal("a 1 MB filter was answered")
		}
		if _, err := search(c, "dc=a,dc=test", "(mail=bob*)"); err != nil {
			t.Fatalf("ann's connection after bob's 1 MB filter: %v", err)
		}
		// Parallel wrong-password binds: each refused, ann still served.
		var wg sync.WaitGroup
		codes := make(chan uint16, 16)
		for range 16 {
			wg.Go(func() {
				x, err := ldap.DialURL("ldaps://"+e.tlsAddr, ldap.DialWithTLSConfig(e.tls))
				if err != nil {
					codes <- 0
					return
				}
				defer x.Close()
				codes <- code(x.Bind("dan@b.test", "wrong-Password-9!"))
			})
		}
		wg.Wait()
		close(codes)
		for c := range codes {
			if c != ldap.LDAPResultInvalidCredentials {
				t.Fatalf("a parallel wrong bind ended with %d", c)
			}
		}
		if _, err := search(c, "dc=a,dc=test", "(mail=bob*)"); err != nil {
			t.Fatalf("ann's connection after the wrong binds: %v", err)
		}
	})
}

// TestLdapsearch: OpenLDAP's ldapsearch, as address books use it, over
// StartTLS with a Thunderbird-shaped filter.
func TestLdapsearch(t *testing.T) {
	bin := mailtest.Ldapsearch(t)
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, false)
		cmd := exec.Command(bin, "-x", "-LLL", "-ZZ", "-H", "ldap://"+e.addr, "-D", "ann/a.test", "-w", password,
			"-b", "dc=a,dc=test", "(|(cn=*gina*)(mail=gina*)(sn=gina*))", "cn", "mail", "title")
		cmd.Env = []string{"LDAPTLS_REQCERT=never"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ldapsearch: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "mail: gina@partner.example") || !strings.Contains(string(out), "title: Buyer") {
			t.Fatalf("ldapsearch output:\n%s", out)
		}
	})
}

// TestConnectionCap: past the cap per address a new connection is closed
// at once; one ending makes room.
func TestConnectionCap(t *testing.T) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), false, func(c *ldapd.Config) { c.MaxConnectionsPerIP = 2 })
	a, err := e.dial("ann@a.test", true)
	tcheck(t, err, "first")
	_, err = e.dial("bob@a.test", false)
	tcheck(t, err, "second")
	if _, err := e.dial("ann@a.test", false); err == nil {
		t.Fatal("a third connection from one address was served")
	}
	a.Close()
	var last error
	for range 50 { // the server notices the close asynchronously
		if _, last = e.dial("ann@a.test", false); last == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no room after a connection ended: %v", last)
}
