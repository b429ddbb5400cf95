package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/mtasts"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestMTASTSServedAndFound: the policy a hosted domain's panel serves at
// mta-sts.DOMAIN over HTTPS is what the sending side (mailsvc/mtasts)
// finds under the _mta-sts record its DNS page asks for, and caches.
func TestMTASTSServedAndFound(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		sys := tenants.SystemScope("test")
		s := tenantstest.Service(db, nil)
		a := address.Domain("a.test")
		_, err := s.CreateDomain(ctx, sys, a, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetMTASTSMode(ctx, sys, a, tenants.MTASTSEnforce); err != nil {
			t.Fatal(err)
		}
		e, err := panel.New(panel.Deps{Tenants: s, Health: db.Ping, MailHost: "mx.postdesk.test"})
		if err != nil {
			t.Fatal(err)
		}
		cert, roots := issue(t, "mta-sts.a.test")
		srv := httptest.NewUnstartedServer(e)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		defer srv.Close()

		dns := mailtest.StartDNS(t)
		dns.Add("mta-sts.a.test. 300 IN A 127.0.0.1")
		recs, err := s.ExpectedDNS(ctx, sys, a, "mx.postdesk.test")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Kind == tenants.DNSMTASTS {
				dns.TXT("_mta-sts.a.test", r.Value)
			}
		}
		f := &mtasts.Finder{DB: db, Now: time.Now, Fetcher: &mtasts.Fetcher{
			Resolver: &dnsres.Resolver{Server: dns.Addr, Timeout: 2 * time.Second},
			RootCAs:  roots, Port: srv.Listener.Addr().(*net.TCPAddr).Port,
		}}
		p, problem, err := f.Find(ctx, "a.test")
		if err != nil || problem != nil || p == nil {
			t.Fatalf("Find: %v, %v, %v", p, problem, err)
		}
		if p.Mode != mtasts.ModeEnforce || !p.AllowsMX("mx.postdesk.test") || p.AllowsMX("mail.a.test") || p.MaxAge != 7*24*time.Hour {
			t.Errorf("policy %+v", p)
		}
		srv.Close()
		if p2, _, err := f.Find(ctx, "a.test"); err != nil || p2 == nil || p2.ID != p.ID {
			t.Errorf("cached policy: %+v, %v", p2, err)
		}
	})
}

// issue makes a CA and a certificate it signs for name.
func issue(t *testing.T, name string) (tls.Certificate, *x509.CertPool) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
