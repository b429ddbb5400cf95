package queue_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// leafFor issues a certificate for names.
func (ca *testCA) leafFor(t *testing.T, names ...string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tcheck(t, err, "leaf key")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	tcheck(t, err, "leaf cert")
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// policyServer is a loopback HTTPS server for mta-sts.remote.test with a
// certificate of the test CA, serving policy and counting its fetches.
type policyServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	policy  string
	fetches int
}

func newPolicyServer(t *testing.T, e *env, policy string) *policyServer {
	p := &policyServer{policy: policy}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if r.Host != "mta-sts.remote.test" || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		p.fetches++
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(p.policy))
	}))
	p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{e.ca.leafFor(t, "mta-sts.remote.test")}}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	e.dns.add("mta-sts.remote.test. 300 IN A 127.0.0.1")
	return p
}

func (p *policyServer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

func (p *policyServer) port() int { return p.srv.Listener.Addr().(*net.TCPAddr).Port }

// stsQueue is a queue that fetches policies from p.
func (e *env) stsQueue(db *database.DB, p *policyServer) *queue.Queue {
	return e.queueWith(db, func(o *queue.Options) { o.MTASTSPort = p.port() })
}

// stsMX replaces e's MX by one whose certificate the test CA issued for
// names.
func (e *env) stsMX(t *testing.T, names ...string) {
	var cert tls.Certificate
	if len(names) == 0 {
		cert = selfSigned(t)
	} else {
		cert = e.ca.leafFor(t, names...)
	}
	e.mx = newMX(t, "127.0.0.1", 0, &cert)
}

const enforcePolicy = "version: STSv1\r\nmode: enforce\r\nmx: *.remote.test\r\nmax_age: 86400\r\n"

// An enforced MTA-STS policy (RFC 8461): mail goes over TLS to an MX the
// policy names whose certificate verifies; the policy is fetched once and
// then comes from the database for its max_age, for another process too.
func TestMTASTSEnforceDelivers(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.stsMX(t, "mx.remote.test")
		e.dns.add(`_mta-sts.remote.test. 300 IN TXT "v=STSv1; id=20261208"`)
		p := newPolicyServer(t, e, enforcePolicy)
		q := e.stsQueue(db, p)
		e.enqueue(q, e.submission("bob@remote.test"), message("sts one"))
		stop := e.run(q)
		waitFor(t, "delivery", func() bool { return e.mx.count() == 1 && len(e.queued(q)) == 0 })
		stop()
		if !e.mx.received()[0].TLS {
			t.Errorf("delivered without TLS")
		}
		q2 := e.stsQueue(db, p)
		e.enqueue(q2, e.submission("bob@remote.test"), message("sts two"))
		e.run(q2)
		waitFor(t, "second delivery", func() bool { return e.mx.count() == 2 && len(e.queued(q2)) == 0 })
		if n := p.count(); n != 1 {
			t.Errorf("policy fetched %d times, want once (cached in the database)", n)
		}
		// A new id in DNS fetches the policy again.
		e.dns.mu.Lock()
		delete(e.dns.rrs, "_mta-sts.remote.test.")
		e.dns.mu.Unlock()
		e.dns.add(`_mta-sts.remote.test. 300 IN TXT "v=STSv1; id=20261209"`)
		e.enqueue(q2, e.submission("bob@remote.test"), message("sts three"))
		waitFor(t, "third delivery", func() bool { return e.mx.count() == 3 && len(e.queued(q2)) == 0 })
		if n := p.count(); n != 2 {
			t.Errorf("policy fetched %d times after the id changed, want 2", n)
		}
	})
}

// Enforced, an MX whose certificate does not verify, one the policy does
// not name, or one without STARTTLS gets nothing: the message is deferred
// with a last error that says why. The cached policy still applies after
// the policy server and the TXT record are gone.
func TestMTASTSEnforceDefers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy string
		certs  []string // nil: self-signed
		noTLS  bool
		want   string
	}{
		{"self-signed", enforcePolicy, nil, false, "the certificate of mx.remote.test does not verify, as the MTA-STS policy of remote.test requires"},
		{"wrong name", enforcePolicy, []string{"other.example"}, false, "the certificate of mx.remote.test does not verify"},
		{"mx not named", strings.Replace(enforcePolicy, "*.remote.test", "mail.remote.test", 1), []string{"mx.remote.test"}, false,
			"MX host mx.remote.test is not named by the MTA-STS policy of remote.test"},
		{"no starttls", enforcePolicy, []string{"mx.remote.test"}, true, "mx.remote.test offers no STARTTLS, which the MTA-STS policy of remote.test requires"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				e := newEnv(t, db)
				e.stsMX(t, tc.certs...)
				if tc.noTLS {
					e.mx = newPlainMX(t)
				}
				e.dns.add(`_mta-sts.remote.test. 300 IN TXT "v=STSv1; id=1"`)
				p := newPolicyServer(t, e, tc.policy)
				q := e.stsQueue(db, p)
				e.enqueue(q, e.submission("bob@remote.test"), message("sts "+tc.name))
				stop := e.run(q)
				var last string
				waitFor(t, "deferral", func() bool {
					ms := e.queued(q)
					if len(ms) == 1 && ms[0].Recipients[0].Attempts == 1 {
						last = ms[0].Recipients[0].LastError
						return true
					}
					return false
				})
				stop()
				if !strings.Contains(last, tc.want) {
					t.Errorf("last error %q, want %q", last, tc.want)
				}
				if n := e.mx.count(); n != 0 {
					t.Errorf("MX got %d messages", n)
				}
				// The policy stays for its max_age without its server
				// or record.
				p.srv.Close()
				e.dns.mu.Lock()
				delete(e.dns.rrs, "_mta-sts.remote.test.")
				e.dns.mu.Unlock()
				e.clock.Advance(time.Hour)
				q2 := e.stsQueue(db, p)
				e.run(q2)
				waitFor(t, "second deferral", func() bool {
					ms := e.queued(q2)
					return len(ms) == 1 && ms[0].Recipients[0].Attempts == 2 && strings.Contains(ms[0].Recipients[0].LastError, tc.want)
				})
				if n := e.mx.count(); n != 0 {
					t.Errorf("MX got %d messages with the cached policy", n)
				}
			})
		})
	}
}

// In testing mode a failure is reported, not enforced: the message goes to
// the self-signed MX, and the log names the failure.
func TestMTASTSTestingReports(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.stsMX(t)
		e.dns.add(`_mta-sts.remote.test. 300 IN TXT "v=STSv1; id=1"`)
		p := newPolicyServer(t, e, strings.Replace(enforcePolicy, "enforce", "testing", 1))
		q := e.stsQueue(db, p)
		e.enqueue(q, e.submission("bob@remote.test"), message("sts testing"))
		e.run(q)
		waitFor(t, "delivery", func() bool { return e.mx.count() == 1 && len(e.queued(q)) == 0 })
		logs := e.log.String()
		if !strings.Contains(logs, "MTA-STS policy (testing) not met") || !strings.Contains(logs, `failure="certificate does not verify"`) {
			t.Errorf("no testing report in the log")
		}
	})
}

// A policy that can't be had (a server whose certificate does not verify,
// one too large) is as none: mail goes as before, and the log says why.
func TestMTASTSUnusablePolicy(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.stsMX(t)
		e.dns.add(`_mta-sts.remote.test. 300 IN TXT "v=STSv1; id=1"`)
		p := newPolicyServer(t, e, enforcePolicy+"x: "+strings.Repeat("y", 64<<10)+"\n")
		q := e.stsQueue(db, p)
		e.enqueue(q, e.submission("bob@remote.test"), message("sts big"))
		e.run(q)
		waitFor(t, "delivery", func() bool { return e.mx.count() == 1 && len(e.queued(q)) == 0 })
		if !strings.Contains(e.log.String(), "larger than 65536 octets") {
			t.Errorf("the log does not say the policy was too large")
		}
	})
}
