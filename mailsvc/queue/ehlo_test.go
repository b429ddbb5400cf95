package queue_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// transcript keeps what a go-smtp server's Debug writer sees, both ways.
type transcript struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

// commands returns the verbs the client sent, in order.
func (t *transcript) commands() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var verbs []string
	sc := bufio.NewScanner(bytes.NewReader(t.b.Bytes()))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] >= '0' && l[0] <= '9' {
			continue // a reply
		}
		if v, _, _ := strings.Cut(l, " "); v == "EHLO" || v == "HELO" || v == "STARTTLS" || v == "MAIL" {
			verbs = append(verbs, v)
		}
	}
	return verbs
}

// The outbound client says EHLO once to a server without STARTTLS (a
// strict one answers a second EHLO 503), and again only after STARTTLS
// (RFC 3207 4.2). The remote MX is a real go-smtp server on loopback whose
// transcript is read back.
func TestEHLOOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		startTLS bool
		want     string
	}{
		{"plain", false, "EHLO MAIL"},
		{"STARTTLS", true, "EHLO STARTTLS EHLO MAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
				e := newEnv(t, db)
				// e.mx, replaced by a server with a transcript, and with
				// STARTTLS only when the case wants it.
				l, err := net.Listen("tcp", "127.0.0.1:0")
				tcheck(t, err, "listen")
				m := &mxServer{t: t, addr: l.Addr().String(), port: l.Addr().(*net.TCPAddr).Port, rcptCount: map[string]int{}}
				m.srv = smtp.NewServer(m)
				m.srv.Domain = "mx.remote.test"
				m.srv.ReadTimeout, m.srv.WriteTimeout = 10*time.Second, 10*time.Second
				m.srv.ErrorLog = log.New(io.Discard, "", 0)
				var tr transcript
				m.srv.Debug = &tr
				if tc.startTLS {
					m.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
				}
				go m.srv.Serve(l)
				t.Cleanup(func() { m.srv.Close() })
				e.mx = m

				q := e.queue(db)
				e.enqueue(q, e.submission("bob@remote.test"), message("hello"))
				e.run(q)
				waitFor(t, "delivery", func() bool { return m.count() == 1 && len(e.queued(q)) == 0 })
				if got := strings.Join(tr.commands(), " "); got != tc.want {
					t.Errorf("commands %q, want %q", got, tc.want)
				}
				if r := m.received()[0]; r.Helo != "mail.local.test" || r.TLS != tc.startTLS {
					t.Errorf("helo %q, TLS %v", r.Helo, r.TLS)
				}
			})
		})
	}
}
