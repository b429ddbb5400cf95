package smtpd_test

import (
	"context"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/tenants/queueadmin"
)

// remoteMX is "the rest of the internet" for a test: a go-smtp server on
// loopback that records every message it takes, made the queue's smart
// host, with the queue running, so that what Postdesk sends out is seen
// as it leaves.
type remoteMX struct {
	mu   sync.Mutex
	msgs []remoteMsg
}

// remoteMsg is one message as the remote server received it.
type remoteMsg struct {
	From  string
	Rcpts []string
	Data  string
}

// remote starts the loopback remote MX and the queue's workers.
func (e *env) remote() *remoteMX {
	t := e.t
	l, err := net.Listen("tcp", "127.0.0.1:0")
	tcheck(t, err, "remote listen")
	m := &remoteMX{}
	srv := smtp.NewServer(m)
	srv.Domain = "mx.remote.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	s, err := e.q.DeliveryOptions(e.ctx, sys)
	tcheck(t, err, "delivery options")
	s.SmartHost = queueadmin.Relay{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
	tcheck(t, e.q.SetDeliveryOptions(e.ctx, sys, *s), "smart host")
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.q.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return m
}

// wait returns the messages received once there are n, failing the test
// if they don't come.
func (m *remoteMX) wait(t testing.TB, n int) []remoteMsg {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m.mu.Lock()
		got := append([]remoteMsg(nil), m.msgs...)
		m.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote MX received %d messages, want %d: %+v", len(got), n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *remoteMX) NewSession(c *smtp.Conn) (smtp.Session, error) { return &remoteSession{m: m}, nil }

type remoteSession struct {
	m   *remoteMX
	msg remoteMsg
}

func (s *remoteSession) Mail(from string, opts *smtp.MailOptions) error {
	s.msg = remoteMsg{From: from}
	return nil
}

func (s *remoteSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.msg.Rcpts = append(s.msg.Rcpts, to)
	return nil
}

func (s *remoteSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = string(b)
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, s.msg)
	s.m.mu.Unlock()
	return nil
}

func (s *remoteSession) Reset()        { s.msg = remoteMsg{} }
func (s *remoteSession) Logout() error { return nil }
