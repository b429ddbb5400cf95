package main

import (
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestServeOutbound runs the binary with its outbound queue pointed at a
// DNS server and an MX started here: a message submitted for a remote
// recipient reaches that MX, and the attempt is in the log.
func TestServeOutbound(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			mx := newTestMX(t)
			dnsAddr := newTestDNS(t, map[string]string{
				"remote.test.":    "remote.test. 60 IN MX 10 mx.remote.test.",
				"mx.remote.test.": "mx.remote.test. 60 IN A 127.0.0.1",
			})
			data := t.TempDir()
			subAddr := freeAddr(t)
			env := []string{"POSTDESK_DATA=" + data, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
				"POSTDESK_HTTP_ADDR=", "POSTDESK_SMTP_ADDR=", "POSTDESK_SUBMISSIONS_ADDR=", "POSTDESK_IMAP_ADDR=", "POSTDESK_IMAPS_ADDR=",
				"POSTDESK_POP3_ADDR=", "POSTDESK_POP3S_ADDR=", "POSTDESK_SUBMISSION_ADDR=" + subAddr,
				"POSTDESK_ALLOW_PLAINTEXT_AUTH=true", "POSTDESK_HOSTNAME=mail.local.test", "POSTDESK_ADMIN_PASSWORD=Adm1n-pass-word!",
				"POSTDESK_DNS_SERVER=" + dnsAddr, "POSTDESK_SMTP_REMOTE_PORT=" + strconv.Itoa(mx.port)}
			if eng == database.Postgres {
				env = append(env, "POSTDESK_DATABASE_URL="+tenantstest.PostgresURL(t))
			}
			cli := func(args ...string) {
				t.Helper()
				cmd := exec.Command(bin, args...)
				cmd.Env = append(listenersOff(), env...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("postdesk %v: %v\n%s", args, err, out)
				}
			}
			cli("domain", "add", "local.test")
			cli("mailbox", "add", "john@local.test", "--password", "Xk9#mq2!pLw7z")
			// routed.test has no DNS records: only the route reaches the MX.
			cli("route", "add", "routed.test", "127.0.0.1:"+strconv.Itoa(mx.port))

			cmd := exec.Command(bin, "serve")
			cmd.Env = append(listenersOff(), env...)
			var logs syncBuffer
			cmd.Stdout, cmd.Stderr = io.Discard, &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			c := dialWhenUp(t, subAddr)
			defer c.Close()
			if err := c.Auth(sasl.NewPlainClient("", "john@local.test", "Xk9#mq2!pLw7z")); err != nil {
				t.Fatalf("auth: %v\n%s", err, logs.String())
			}
			msg := "From: john@local.test\r\nTo: bob@remote.test\r\nSubject: out\r\nMessage-ID: <out@local.test>\r\n\r\nGoing out.\r\n"
			if err := c.SendMail("john@local.test", []string{"bob@remote.test"}, strings.NewReader(msg)); err != nil {
				t.Fatalf("send: %v\n%s", err, logs.String())
			}
			msg = "From: john@local.test\r\nTo: carol@routed.test\r\nSubject: routed\r\n\r\nBy the route.\r\n"
			if err := c.SendMail("john@local.test", []string{"carol@routed.test"}, strings.NewReader(msg)); err != nil {
				t.Fatalf("send: %v\n%s", err, logs.String())
			}
			c.Quit()
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(logs.String(), "rcpt=carol@routed.test result=delivered") {
				if time.Now().After(deadline) {
					t.Fatalf("the routed message was not delivered; log:\n%s", logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			for mx.count() < 2 {
				if time.Now().After(deadline) {
					t.Fatalf("the remote MX got nothing; log:\n%s", logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			got := mx.to("bob@remote.test")
			if routed := mx.to("carol@routed.test"); !strings.Contains(routed.data, "Subject: routed") {
				t.Errorf("MX got %+v for the route", routed)
			}
			if got.from != "john@local.test" || got.rcpt != "bob@remote.test" || !strings.Contains(got.data, "Subject: out") {
				t.Errorf("MX got %+v", got)
			}
			for !strings.Contains(logs.String(), "rcpt=bob@remote.test result=delivered") {
				if time.Now().After(deadline) {
					t.Fatalf("no delivery line in the log:\n%s", logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
	}
}

func dialWhenUp(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := smtp.Dial(addr)
		if err == nil {
			if err := c.Hello("client.test"); err == nil {
				return c
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("submission at %s not up: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestDNS serves the given records (by owner name) on loopback UDP.
func newTestDNS(t *testing.T, zone map[string]string) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rrs := map[string]dns.RR{}
	for name, text := range zone {
		rr, err := dns.NewRR(text)
		if err != nil {
			t.Fatal(err)
		}
		rrs[name] = rr
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		rr, ok := rrs[strings.ToLower(q.Name)]
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case rr.Header().Rrtype == q.Qtype:
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

type testMX struct {
	port int
	mu   sync.Mutex
	msgs []mxMessage
}

type mxMessage struct{ from, rcpt, data string }

func newTestMX(t *testing.T) *testMX {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &testMX{port: l.Addr().(*net.TCPAddr).Port}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &testMXSession{mx: m}, nil }))
	s.Domain = "mx.remote.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return m
}

func (m *testMX) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.msgs)
}

// to returns the message received for rcpt (a zero one if none).
func (m *testMX) to(rcpt string) mxMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range m.msgs {
		if msg.rcpt == rcpt {
			return msg
		}
	}
	return mxMessage{}
}

type testMXSession struct {
	mx         *testMX
	from, rcpt string
}

func (s *testMXSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *testMXSession) Rcpt(to string, _ *smtp.RcptOptions) error   { s.rcpt = to; return nil }
func (s *testMXSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mx.mu.Lock()
	s.mx.msgs = append(s.mx.msgs, mxMessage{s.from, s.rcpt, string(b)})
	s.mx.mu.Unlock()
	return nil
}
func (s *testMXSession) Reset()        {}
func (s *testMXSession) Logout() error { return nil }
