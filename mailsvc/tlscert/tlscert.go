// Package tlscert holds the TLS certificate every listener uses: one named
// by the operator, or a self-signed one made for development on first run.
// Reload (on SIGHUP) swaps it without dropping connections.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Store serves the current certificate to TLS handshakes.
type Store struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// Open loads certFile and keyFile. With both empty it uses (and makes on
// first run) a self-signed certificate for hostname in dataDir.
func Open(certFile, keyFile, dataDir, hostname string) (*Store, bool, error) {
	made := false
	if certFile == "" && keyFile == "" {
		certFile = filepath.Join(dataDir, "tls", "selfsigned.crt")
		keyFile = filepath.Join(dataDir, "tls", "selfsigned.key")
		if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
			if err := selfSign(certFile, keyFile, hostname); err != nil {
				return nil, false, err
			}
			made = true
		}
	} else if certFile == "" || keyFile == "" {
		return nil, false, errors.New("name both a TLS certificate and its key")
	}
	s := &Store{certFile: certFile, keyFile: keyFile}
	if err := s.Reload(); err != nil {
		return nil, false, err
	}
	return s, made, nil
}

// Reload reads the files again; on error the old certificate stays.
func (s *Store) Reload() error {
	c, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s: %w", s.certFile, err)
	}
	s.cur.Store(&c)
	return nil
}

// Config returns a server TLS config that always uses the current
// certificate.
func (s *Store) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cur.Load(), nil
		},
	}
}

// Leaf returns the current certificate, parsed.
func (s *Store) Leaf() (*x509.Certificate, error) {
	c := s.cur.Load()
	return x509.ParseCertificate(c.Certificate[0])
}

func selfSign(certFile, keyFile, hostname string) error {
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return fmt.Errorf("make TLS folder: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("make TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return err
	}
	if hostname == "" {
		hostname = "localhost"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hostname, Organization: []string{"Postdesk self-signed"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{hostname, "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("make TLS certificate: %w", err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeFile writes through a temporary file and rename, so that a crash
// never leaves half a key.
func writeFile(name string, b []byte, mode os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
