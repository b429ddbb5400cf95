package msgauth_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
	"github.com/miekg/dns"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/seal"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func resolver(d *mailtest.DNS) *dnsres.Resolver {
	return &dnsres.Resolver{Server: d.Addr, Timeout: 2 * time.Second}
}

// TestSPF drives check_host (RFC 7208) against a DNS server on loopback:
// each mechanism, includes and redirects, macros, and the limits of 4.6.4
// (ten lookups, two void lookups), which bound the queries a sender's
// records can cause.
func TestSPF(t *testing.T) {
	d := mailtest.StartDNS(t)
	d.TXT("pass.test", "v=spf1 ip4:127.0.0.1 ip6:2001:db8::/32 -all")
	d.TXT("soft.test", "v=spf1 ~all")
	d.TXT("neutral.test", "v=spf1 ?all")
	d.TXT("inc.test", "v=spf1 include:pass.test -all")
	d.TXT("incnone.test", "v=spf1 include:none.test -all")
	d.TXT("a.test", "v=spf1 a/24 -all")
	d.Add("a.test. 300 IN A 127.0.0.9")
	d.TXT("mx.test", "v=spf1 mx -all")
	d.Add("mx.test. 300 IN MX 10 mail.mx.test.")
	d.Add("mail.mx.test. 300 IN A 127.0.0.1")
	d.TXT("redir.test", "v=spf1 redirect=pass.test")
	d.TXT("redirnone.test", "v=spf1 redirect=none.test")
	d.TXT("loop.test", "v=spf1 include:loop.test -all")
	d.TXT("void.test", "v=spf1 a:nx1.test a:nx2.test a:nx3.test -all")
	d.TXT("void2.test", "v=spf1 a:nx1.test a:nx2.test -all")
	d.TXT("two.test", "v=spf1 -all")
	d.TXT("two.test", "v=spf1 +all")
	d.Fail("temp.test", dns.RcodeServerFailure)
	d.TXT("macro.test", "v=spf1 exists:%{l}.%{i}._spf.%{d} -all")
	d.Add("alice.127.0.0.1._spf.macro.test. 300 IN A 127.0.0.2")
	d.TXT("bad.test", "v=spf1 foo:bar -all")
	d.TXT("other.test", "v=moo include:pass.test")
	res := resolver(d)
	lo, lo2 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	for _, tc := range []struct {
		domain, local string
		ip            netip.Addr
		want          string
	}{
		{"pass.test", "x", lo, msgauth.Pass},
		{"pass.test", "x", lo2, msgauth.Fail},
		{"pass.test", "x", netip.MustParseAddr("2001:db8::25"), msgauth.Pass},
		{"soft.test", "x", lo, msgauth.SoftFail},
		{"neutral.test", "x", lo, msgauth.Neutral},
		{"none.test", "x", lo, msgauth.None},
		{"other.test", "x", lo, msgauth.None},
		{"inc.test", "x", lo, msgauth.Pass},
		{"inc.test", "x", lo2, msgauth.Fail},
		{"incnone.test", "x", lo, msgauth.PermError},
		{"a.test", "x", lo, msgauth.Pass},
		{"mx.test", "x", lo, msgauth.Pass},
		{"mx.test", "x", lo2, msgauth.Fail},
		{"redir.test", "x", lo, msgauth.Pass},
		{"redirnone.test", "x", lo, msgauth.PermError},
		{"loop.test", "x", lo, msgauth.PermError},
		{"void.test", "x", lo, msgauth.PermError},
		{"void2.test", "x", lo, msgauth.Fail},
		{"two.test", "x", lo, msgauth.PermError},
		{"temp.test", "x", lo, msgauth.TempError},
		{"macro.test", "alice", lo, msgauth.Pass},
		{"macro.test", "bob", lo, msgauth.Fail},
		{"bad.test", "x", lo, msgauth.PermError},
	} {
		before := d.Queries()
		got := msgauth.CheckSPF(context.Background(), res, tc.ip, tc.domain, tc.local+"@"+tc.domain, "helo.test")
		if got != tc.want {
			t.Errorf("%s@%s from %s: %s, want %s", tc.local, tc.domain, tc.ip, got, tc.want)
		}
		// The record itself, ten lookups and the one past the limit's
		// start: a sender's records never make more.
		if n := d.Queries() - before; n > 12 {
			t.Errorf("%s: %d DNS queries, more than the limit allows", tc.domain, n)
		}
	}
}

// dkimKeys makes a.test's DKIM keys in a fresh database and returns the
// tenants service and the records to publish.
func dkimKeys(t *testing.T) (*tenants.Service, []tenants.DKIMKeyInfo) {
	db := tenantstest.Open(t, database.SQLite)
	s := tenants.New(db, tenants.Options{Sealer: seal.New(filepath.Join(t.TempDir(), "dkim.key"))})
	ctx := context.Background()
	_, err := s.CreateDomain(ctx, tenants.SystemScope("test"), address.Domain("a.test"), "")
	tcheck(t, err, "create domain")
	keys, err := s.AddDKIMKeys(ctx, tenants.SystemScope("test"), address.Domain("a.test"))
	tcheck(t, err, "add keys")
	return s, keys
}

const plainMessage = "From: Alice <alice@a.test>\r\nTo: <bob@b.test>\r\nSubject: signed\r\n" +
	"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <s1@a.test>\r\n\r\nHello signed.\r\n.A dot line.\r\n  Trailing space   \r\n\r\n\r\n"

// TestSignVerify: a message signed with a domain's keys carries an Ed25519
// and an RSA signature that go-msgauth, through the loopback DNS, and
// dkimpy, from the published records, both verify; a changed body fails
// both. The MX's check reports them and DMARC passes, aligned.
func TestSignVerify(t *testing.T) {
	s, keys := dkimKeys(t)
	d := mailtest.StartDNS(t)
	for _, k := range keys {
		d.TXT(strings.TrimSuffix(k.Record.Name, "."), k.Record.Value)
	}
	d.TXT("_dmarc.a.test", "v=DMARC1; p=reject")
	ctx := context.Background()
	sig, err := msgauth.NewSigner(s).Sign(ctx, address.Domain("a.test"), strings.NewReader(plainMessage))
	tcheck(t, err, "sign")
	if n := strings.Count(sig, "DKIM-Signature:"); n != 2 {
		t.Fatalf("%d signatures, want 2:\n%s", n, sig)
	}
	if strings.Contains(sig, " l=") || strings.Contains(sig, ";l=") {
		t.Errorf("signature with a body length (l=): %s", sig)
	}
	signed := sig + plainMessage

	check := func(msg string) msgauth.Verdict {
		h, err := textproto.ReadHeader(bufioReader(msg))
		tcheck(t, err, "read header")
		return msgauth.NewChecker(resolver(d)).Check(ctx, msgauth.Input{Remote: netip.MustParseAddr("127.0.0.1"), HELO: "mx.a.test",
			MailFrom: "alice@a.test", Header: h, Message: func() io.Reader { return strings.NewReader(msg) }})
	}
	v := check(signed)
	algs := map[string]bool{}
	for _, r := range v.DKIM {
		if r.Result != msgauth.Pass || r.Domain != "a.test" {
			t.Errorf("signature %+v does not pass", r)
		}
		algs[r.Algorithm] = true
	}
	if !algs["ed25519-sha256"] || !algs["rsa-sha256"] {
		t.Errorf("algorithms verified: %v", algs)
	}
	if v.DMARC != msgauth.Pass || v.Rejects() {
		t.Errorf("DMARC of a signed message: %s (rejects %t)", v.DMARC, v.Rejects())
	}
	tampered := strings.Replace(signed, "Hello signed.", "Hello s1gned.", 1)
	v = check(tampered)
	for _, r := range v.DKIM {
		if r.Result == msgauth.Pass {
			t.Errorf("a changed body still passes: %+v", r)
		}
	}
	// SPF from 127.0.0.1 is none here (no SPF record), so DMARC fails
	// and p=reject refuses.
	if v.DMARC != msgauth.Fail || !v.Rejects() {
		t.Errorf("DMARC of a tampered message: %s (rejects %t)", v.DMARC, v.Rejects())
	}

	// dkimpy, a verifier that is not go-msgauth.
	py := mailtest.PythonDKIM(t)
	dir := t.TempDir()
	tcheck(t, os.WriteFile(filepath.Join(dir, "signed.eml"), []byte(signed), 0o600), "write message")
	tcheck(t, os.WriteFile(filepath.Join(dir, "tampered.eml"), []byte(tampered), 0o600), "write message")
	var recs strings.Builder
	for _, k := range keys {
		recs.WriteString(strings.TrimSuffix(k.Record.Name, ".") + "\t" + k.Record.Value + "\n")
	}
	tcheck(t, os.WriteFile(filepath.Join(dir, "records"), []byte(recs.String()), 0o600), "write records")
	const script = `
import dkim, sys
recs = {}
for line in open(sys.argv[1]):
    name, value = line.rstrip("\n").split("\t", 1)
    recs[name] = value.encode()
def dnsfunc(name, timeout=5):
    return recs.get(name.decode().rstrip("."), b"")
def ok(msg, i):
    try:
        return dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
    except dkim.DKIMException:
        return False
for path in sys.argv[2:]:
    msg = open(path, "rb").read()
    n = sum(1 for k, v in dkim.DKIM(msg).headers if k.lower() == b"dkim-signature")
    print(path.rsplit("/", 1)[-1], " ".join(str(ok(msg, i)) for i in range(n)))
`
	out, err := exec.Command(py, "-c", script, filepath.Join(dir, "records"), filepath.Join(dir, "signed.eml"), filepath.Join(dir, "tampered.eml")).CombinedOutput()
	tcheck(t, err, "dkimpy: "+string(out))
	if got := strings.TrimSpace(string(out)); got != "signed.eml True True\ntampered.eml False False" {
		t.Errorf("dkimpy says:\n%s", got)
	}
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// TestDMARCPolicies: the author domain's policy (or its organizational
// domain's, sp= for a subdomain) decides what a failing message gets;
// passing SPF must be aligned with From.
func TestDMARCPolicies(t *testing.T) {
	d := mailtest.StartDNS(t)
	d.TXT("reject.test", "v=spf1 -all")
	d.TXT("_dmarc.reject.test", "v=DMARC1; p=reject")
	d.TXT("_dmarc.quar.test", "v=DMARC1; p=quarantine")
	d.TXT("_dmarc.none.test", "v=DMARC1; p=none")
	d.TXT("_dmarc.org.test", "v=DMARC1; p=reject; sp=quarantine")
	d.TXT("ok.test", "v=spf1 ip4:127.0.0.1 -all")
	d.TXT("_dmarc.ok.test", "v=DMARC1; p=reject")
	d.Fail("_dmarc.temp.test", dns.RcodeServerFailure)
	for _, tc := range []struct {
		from, mailFrom string
		dmarc          string
		reject, quar   bool
	}{
		{"a@reject.test", "a@reject.test", msgauth.Fail, true, false},
		{"a@quar.test", "a@quar.test", msgauth.Fail, false, true},
		{"a@none.test", "a@none.test", msgauth.Fail, false, false},
		{"a@sub.org.test", "a@sub.org.test", msgauth.Fail, false, true},
		{"a@ok.test", "a@ok.test", msgauth.Pass, false, false},
		// SPF passes for ok.test, but From names reject.test: not aligned.
		{"a@reject.test", "a@ok.test", msgauth.Fail, true, false},
		{"a@nopolicy.test", "a@nopolicy.test", msgauth.None, false, false},
		{"a@temp.test", "a@temp.test", msgauth.TempError, false, false},
	} {
		msg := "From: <" + tc.from + ">\r\nSubject: x\r\n\r\nbody\r\n"
		h, _ := textproto.ReadHeader(bufioReader(msg))
		v := msgauth.NewChecker(resolver(d)).Check(context.Background(), msgauth.Input{Remote: netip.MustParseAddr("127.0.0.1"),
			HELO: "client.test", MailFrom: tc.mailFrom, Header: h, Message: func() io.Reader { return strings.NewReader(msg) }})
		if v.DMARC != tc.dmarc || v.Rejects() != tc.reject || v.Quarantines() != tc.quar {
			t.Errorf("From %s, MAIL FROM %s: dmarc=%s reject=%t quarantine=%t, want %s %t %t",
				tc.from, tc.mailFrom, v.DMARC, v.Rejects(), v.Quarantines(), tc.dmarc, tc.reject, tc.quar)
		}
		// The field parses as RFC 8601 and names all three methods.
		field := v.AuthResults("mx.postdesk.test")
		name, value, _ := strings.Cut(strings.TrimSuffix(field, "\r\n"), ": ")
		id, results, err := authres.Parse(value)
		if name != "Authentication-Results" || err != nil || id != "mx.postdesk.test" || len(results) != 3 {
			t.Errorf("field %q: id %q, %d results, %v", field, id, len(results), err)
		}
	}
}

// TestCopyStripped: Authentication-Results fields claiming our host name
// are dropped, however folded or commented, and nothing else changes (other
// servers' fields, the body, a field of ours quoted in the body).
func TestCopyStripped(t *testing.T) {
	long := "Authentication-Results: mx.postdesk.test; dkim=pass header.b=" + strings.Repeat("A", 40000) + "\r\n"
	for _, tc := range []struct{ in, want string }{
		{"Authentication-Results: mx.postdesk.test; dkim=pass\r\nSubject: s\r\n\r\nbody\r\n", "Subject: s\r\n\r\nbody\r\n"},
		{"Subject: s\r\nauthentication-results :\r\n (ours?) MX.Postdesk.TEST;\r\n\tspf=pass\r\nTo: x\r\n\r\nb\r\n", "Subject: s\r\nTo: x\r\n\r\nb\r\n"},
		{"Authentication-Results: mx.other.test; spf=pass\r\n\r\nAuthentication-Results: mx.postdesk.test; dkim=pass\r\n",
			"Authentication-Results: mx.other.test; spf=pass\r\n\r\nAuthentication-Results: mx.postdesk.test; dkim=pass\r\n"},
		{"Authentication-Results: mx.postdesk.test.evil; dkim=pass\r\n\r\nb\r\n", "Authentication-Results: mx.postdesk.test.evil; dkim=pass\r\n\r\nb\r\n"},
		{long + "Subject: s\r\n\r\nb\r\n", "Subject: s\r\n\r\nb\r\n"},
		{"Subject: all header\r\nAuthentication-Results: mx.postdesk.test; x=y\r\n", "Subject: all header\r\n"},
	} {
		var out bytes.Buffer
		n, err := msgauth.CopyStripped(&out, strings.NewReader(tc.in), "mx.postdesk.test")
		tcheck(t, err, "copy")
		if out.String() != tc.want || n != int64(len(tc.in)) {
			t.Errorf("%.60q: got %.80q (%d bytes read), want %.80q", tc.in, out.String(), n, tc.want)
		}
	}
}

// TestRotation: a rotated pair signs only once DNS shows both its records;
// until then the old pair goes on signing.
func TestRotation(t *testing.T) {
	s, old := dkimKeys(t)
	d := mailtest.StartDNS(t)
	ctx := context.Background()
	rot, err := s.RotateDKIMKeys(ctx, tenants.SystemScope("test"), address.Domain("a.test"))
	tcheck(t, err, "rotate")
	r := msgauth.NewRotator(s, resolver(d), nil, 0)
	selectors := func() string {
		sig, err := msgauth.NewSigner(s).Sign(ctx, address.Domain("a.test"), strings.NewReader(plainMessage))
		tcheck(t, err, "sign")
		return sig
	}
	// Nothing published, then one of the two: no switch.
	for i := 0; i < 2; i++ {
		got, err := r.Check(ctx)
		tcheck(t, err, "check")
		if len(got) != 0 || !strings.Contains(selectors(), "s="+old[0].Selector) {
			t.Fatalf("pass %d: switched %v before DNS showed both records", i, got)
		}
		d.TXT(strings.TrimSuffix(rot[0].Record.Name, "."), rot[0].Record.Value)
	}
	d.TXT(strings.TrimSuffix(rot[1].Record.Name, "."), rot[1].Record.Value)
	got, err := r.Check(ctx)
	tcheck(t, err, "check")
	sig := selectors()
	if len(got) != 1 || !strings.Contains(sig, "s="+rot[0].Selector) || !strings.Contains(sig, "s="+rot[1].Selector) || strings.Contains(sig, old[0].Selector) {
		t.Errorf("after both records: switched %v, signatures:\n%s", got, sig)
	}
}

// TestDNSCheck: the records a domain should publish, against what the
// loopback DNS shows: ok, missing or wrong, each with its reason.
func TestDNSCheck(t *testing.T) {
	s, keys := dkimKeys(t)
	d := mailtest.StartDNS(t)
	ctx := context.Background()
	d.Add("a.test. 300 IN MX 10 mx.postdesk.test.")
	d.TXT("a.test", "v=spf1 mx -all")
	d.TXT("a.test", "v=spf1 +all")
	d.TXT(strings.TrimSuffix(keys[0].Record.Name, "."), keys[0].Record.Value)
	d.TXT(strings.TrimSuffix(keys[1].Record.Name, "."), "v=DKIM1; k=rsa; p=AAAA")
	recs, err := s.ExpectedDNS(ctx, tenants.SystemScope("test"), address.Domain("a.test"), "mx.postdesk.test")
	tcheck(t, err, "expected records")
	got := map[string]string{}
	for _, st := range msgauth.DNSCheck(ctx, resolver(d), recs) {
		got[st.Kind+" "+st.Selector] = st.Status
		if st.Status != "ok" && st.Problem == "" {
			t.Errorf("%s %s is %s without a reason", st.Kind, st.Name, st.Status)
		}
	}
	want := map[string]string{"MX ": "ok", "SPF ": "wrong", "DKIM " + keys[0].Selector: "ok", "DKIM " + keys[1].Selector: "wrong", "DMARC ": "missing"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s (all: %v)", k, got[k], v, got)
		}
	}
}

// TestDNSCheckMTASTS: with the domain's MTA-STS mode set, its DNS page asks
// for the _mta-sts record of the current policy, the mta-sts host and the
// TLS-RPT record; an old id is wrong, and with mode none only TLS-RPT is
// asked for.
func TestDNSCheckMTASTS(t *testing.T) {
	s, _ := dkimKeys(t)
	d := mailtest.StartDNS(t)
	ctx := context.Background()
	sys := tenants.SystemScope("test")
	check := func() map[string]tenants.DNSStatus {
		recs, err := s.ExpectedDNS(ctx, sys, address.Domain("a.test"), "mx.postdesk.test")
		tcheck(t, err, "expected records")
		got := map[string]tenants.DNSStatus{}
		for _, st := range msgauth.DNSCheck(ctx, resolver(d), recs) {
			got[st.Kind] = st
		}
		return got
	}
	d.TXT("_smtp._tls.a.test", "v=TLSRPTv1; rua=mailto:postmaster@a.test")
	got := check()
	if _, ok := got[tenants.DNSMTASTS]; ok {
		t.Errorf("MTA-STS record asked for with mode none")
	}
	if got[tenants.DNSTLSRPT].Status != "ok" {
		t.Errorf("TLS-RPT: %+v", got[tenants.DNSTLSRPT])
	}
	tcheck(t, s.SetMTASTSMode(ctx, sys, address.Domain("a.test"), "enforce"), "set mode")
	d.TXT("_mta-sts.a.test", "v=STSv1; id=old")
	d.Add("mta-sts.a.test. 300 IN CNAME mx.postdesk.test.")
	got = check()
	if st := got[tenants.DNSMTASTS]; st.Status != "wrong" || !strings.Contains(st.Problem, "not the current policy's") ||
		!strings.HasPrefix(st.Zone(), `_mta-sts.a.test. IN TXT "v=STSv1; id=`) {
		t.Errorf("old id: %+v %s", st, st.Zone())
	}
	if st := got[tenants.DNSMTASTSHost]; st.Status != "ok" || st.Zone() != "mta-sts.a.test. IN CNAME mx.postdesk.test." {
		t.Errorf("mta-sts host: %+v %s", st, st.Zone())
	}
	want := got[tenants.DNSMTASTS].Value
	d2 := mailtest.StartDNS(t)
	d2.TXT("_mta-sts.a.test", want)
	d = d2
	if st := check()[tenants.DNSMTASTS]; st.Status != "ok" {
		t.Errorf("current id: %+v", st)
	}
	// A new mode is a new policy, with a new id.
	tcheck(t, s.SetMTASTSMode(ctx, sys, address.Domain("a.test"), "testing"), "set mode")
	if st := check()[tenants.DNSMTASTS]; st.Status != "wrong" || st.Value == want {
		t.Errorf("after the mode changed: %+v", st)
	}
}

// TestVouches: a verdict vouches for a sender's domain only through an
// SPF pass of MAIL FROM or a verified DKIM signature within the same
// organizational domain; the HELO name's SPF, a failed signature or
// another domain's don't.
func TestVouches(t *testing.T) {
	for _, c := range []struct {
		name   string
		v      msgauth.Verdict
		domain string
		want   bool
	}{
		{"spf pass", msgauth.Verdict{SPF: msgauth.Pass, SPFDomain: "mail.example.org"}, "example.org", true},
		{"spf pass other domain", msgauth.Verdict{SPF: msgauth.Pass, SPFDomain: "evil.test"}, "example.org", false},
		{"spf pass of the HELO name", msgauth.Verdict{SPF: msgauth.Pass, SPFDomain: "example.org", SPFHELO: true}, "example.org", false},
		{"spf softfail", msgauth.Verdict{SPF: msgauth.SoftFail, SPFDomain: "example.org"}, "example.org", false},
		{"dkim pass", msgauth.Verdict{DKIM: []msgauth.DKIMResult{{Result: msgauth.Pass, Domain: "Example.ORG"}}}, "lists.example.org", true},
		{"dkim fail", msgauth.Verdict{DKIM: []msgauth.DKIMResult{{Result: msgauth.Fail, Domain: "example.org"}}}, "example.org", false},
		{"dkim pass other domain", msgauth.Verdict{DKIM: []msgauth.DKIMResult{{Result: msgauth.Pass, Domain: "evil.test"}}}, "example.org", false},
		{"nothing", msgauth.Verdict{SPF: msgauth.None}, "example.org", false},
		{"empty domain", msgauth.Verdict{SPF: msgauth.Pass, SPFDomain: ""}, "", false},
	} {
		if got := c.v.Vouches(c.domain); got != c.want {
			t.Errorf("%s: Vouches(%q) = %v, want %v", c.name, c.domain, got, c.want)
		}
	}
}

// TestUnchecked: only a MAIL FROM domain that publishes no SPF record and
// no DMARC policy gives the checks nothing to go by.
func TestUnchecked(t *testing.T) {
	for _, c := range []struct {
		name   string
		v      msgauth.Verdict
		domain string
		want   bool
	}{
		{"nothing published", msgauth.Verdict{SPF: msgauth.None, SPFDomain: "a.test", DMARC: msgauth.None}, "a.test", true},
		{"spf fail", msgauth.Verdict{SPF: msgauth.Fail, SPFDomain: "a.test", DMARC: msgauth.None}, "a.test", false},
		{"spf softfail", msgauth.Verdict{SPF: msgauth.SoftFail, SPFDomain: "a.test", DMARC: msgauth.None}, "a.test", false},
		{"dmarc published", msgauth.Verdict{SPF: msgauth.None, SPFDomain: "a.test", DMARC: "fail"}, "a.test", false},
		{"another domain's spf", msgauth.Verdict{SPF: msgauth.None, SPFDomain: "b.test", DMARC: msgauth.None}, "a.test", false},
		{"the HELO name's", msgauth.Verdict{SPF: msgauth.None, SPFDomain: "a.test", SPFHELO: true, DMARC: msgauth.None}, "a.test", false},
	} {
		if got := c.v.Unchecked(c.domain); got != c.want {
			t.Errorf("%s: Unchecked(%q) = %v, want %v", c.name, c.domain, got, c.want)
		}
	}
}
