package mtasts_test

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
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/mtasts"
)

func TestParseRecord(t *testing.T) {
	for _, tc := range []struct {
		in, id string
	}{
		{"v=STSv1; id=20160831085700Z;", "20160831085700Z"},
		{"v=STSv1;id=abc", "abc"},
		{"v=STSv1; id=a-b", ""},
		{"v=STSv1;", ""},
		{"v=spf1 -all", ""},
		{"v=STSv1; id=" + strings.Repeat("a", 33), ""},
	} {
		id, err := mtasts.ParseRecord(tc.in)
		if id != tc.id || (err == nil) != (tc.id != "") {
			t.Errorf("ParseRecord(%q) = %q, %v; want %q", tc.in, id, err, tc.id)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	ok := "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n"
	p, err := mtasts.ParsePolicy(strings.ReplaceAll(ok, "\n", "\r\n"))
	if err != nil || p.Mode != "enforce" || p.MaxAge != 7*24*time.Hour || len(p.MX) != 2 {
		t.Fatalf("ParsePolicy = %+v, %v", p, err)
	}
	for host, want := range map[string]bool{
		"mail.example.com": true, "MAIL.example.com.": true, "x.example.net": true,
		"example.net": false, "a.b.example.net": false, "mail.example.org": false,
	} {
		if got := p.AllowsMX(host); got != want {
			t.Errorf("AllowsMX(%q) = %v", host, got)
		}
	}
	for _, bad := range []string{
		"mode: enforce\nmx: a\nmax_age: 1\n",                        // no version
		"version: STSv1\nmode: enforce\nmax_age: 1\n",               // no mx
		"version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n",         // bad mode
		"version: STSv1\nmode: enforce\nmx: a\nmax_age: 99999999\n", // more than a year
		"version: STSv1\nmode: enforce\nmx: a\n",                    // no max_age
		"<html>",
	} {
		if _, err := mtasts.ParsePolicy(bad); err == nil {
			t.Errorf("ParsePolicy(%q) accepted", bad)
		}
	}
	if _, err := mtasts.ParsePolicy("version: STSv1\nmode: none\nmax_age: 1\n"); err != nil {
		t.Errorf("mode none without mx: %v", err)
	}
}

// policyServer is an HTTPS server on loopback for mta-sts.example.org
// with a certificate of its own CA, answering with handler.
func policyServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *x509.CertPool) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), DNSNames: []string{"mta-sts.example.org"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return srv, pool
}

// fetcher fetches from srv, mta-sts.example.org resolving to loopback
// through a loopback DNS server.
func fetcher(t *testing.T, srv *httptest.Server, roots *x509.CertPool) *mtasts.Fetcher {
	d := mailtest.StartDNS(t)
	d.Add("mta-sts.example.org. 300 IN A 127.0.0.1")
	return &mtasts.Fetcher{Resolver: &dnsres.Resolver{Server: d.Addr, Timeout: 2 * time.Second},
		RootCAs: roots, Port: srv.Listener.Addr().(*net.TCPAddr).Port, Timeout: 5 * time.Second}
}

const policy = "version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 60\n"

// A policy is read from a verified server; a redirect is not followed, a
// page that is not text/plain, one larger than 64 KiB and a server whose
// certificate does not verify are refused, and a server that never answers
// holds the fetch only until the caller's context ends.
func TestFetch(t *testing.T) {
	hang := make(chan struct{})
	srv, roots := policyServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "mta-sts.example.org" || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(policy))
	})
	defer close(hang)
	f := fetcher(t, srv, roots)
	p, err := f.Fetch(t.Context(), "example.org")
	if err != nil || p.Mode != "testing" || p.MaxAge != time.Minute {
		t.Fatalf("Fetch = %+v, %v", p, err)
	}
	if _, err := fetcher(t, srv, x509.NewCertPool()).Fetch(t.Context(), "example.org"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an unverified server was trusted: %v", err)
	}
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://mta-sts.example.org/other", http.StatusFound)
		}, "HTTP status 302"},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(policy))
		}, "not text/plain"},
		{"large", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(policy))
			w.Write([]byte("x: " + strings.Repeat("y", 100<<10) + "\n"))
		}, "larger than 65536 octets"},
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.(http.Flusher).Flush()
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, roots := policyServer(t, tc.handler)
			ctx := t.Context()
			if tc.name == "hang" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			_, err := fetcher(t, srv, roots).Fetch(ctx, "example.org")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Fetch: %v, want %q", err, tc.want)
			}
		})
	}
}
