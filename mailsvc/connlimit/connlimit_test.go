package connlimit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// fromConn is one end of a pipe that says it comes from remote: the
// limiter's input, not a stand-in for it.
type fromConn struct {
	net.Conn
	remote net.Addr
	peer   net.Conn
}

func (c *fromConn) RemoteAddr() net.Addr { return c.remote }

func from(t *testing.T, s string) *fromConn {
	t.Helper()
	var a net.Addr = &net.UnixAddr{Name: "@", Net: "unix"}
	if s != "" {
		ta, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		a = ta
	}
	c, peer := net.Pipe()
	t.Cleanup(func() { c.Close(); peer.Close() })
	return &fromConn{Conn: c, remote: a, peer: peer}
}

// TestAcquire: caps per address, per network and in total, IPv6 grouped
// by /64 and /48, -1 lifting both caps, a refusal counting nothing, Close
// ending the count once only. The connections log in at once, so the
// total refuses: TestEvict has the unauthenticated share.
func TestAcquire(t *testing.T) {
	type step struct {
		remote string
		want   error
	}
	for _, tc := range []struct {
		name  string
		lim   Limits
		steps []step
	}{
		{"per IPv4 address", Limits{PerIP: 2}, []step{
			{"192.0.2.1:1000", nil},
			{"192.0.2.1:1001", nil},
			{"192.0.2.1:1002", ErrPerIP},
			{"192.0.2.2:1000", nil},
		}},
		{"IPv6 by /64", Limits{PerIP: 2}, []step{
			{"[2001:db8::1]:1000", nil},
			{"[2001:db8::2]:1000", nil},
			{"[2001:db8::ffff:1]:1000", ErrPerIP},
			{"[2001:db8:0:1::1]:1000", nil},
		}},
		{"IPv4-mapped IPv6 is IPv4", Limits{PerIP: 1}, []step{
			{"192.0.2.1:1000", nil},
			{"[::ffff:192.0.2.1]:1000", ErrPerIP},
		}},
		{"per /24: 4 times the per-address cap by default", Limits{PerIP: 1}, []step{
			{"192.0.2.1:1", nil},
			{"192.0.2.2:1", nil},
			{"192.0.2.3:1", nil},
			{"192.0.2.4:1", nil},
			{"192.0.2.5:1", ErrPerNet},
			{"192.0.2.5:1", ErrPerNet},
			{"192.0.3.5:1", nil},
		}},
		{"per /48", Limits{PerIP: 2, PerNet: 3}, []step{
			{"[2001:db8:1:1::1]:1", nil},
			{"[2001:db8:1:2::1]:1", nil},
			{"[2001:db8:1:2::1]:1", nil},
			{"[2001:db8:1:ffff::1]:1", ErrPerNet},
			{"[2001:db8:2::1]:1", nil},
		}},
		{"per network never below per address", Limits{PerIP: 3, PerNet: 1}, []step{
			{"192.0.2.1:1", nil},
			{"192.0.2.1:2", nil},
			{"192.0.2.1:3", nil},
			{"192.0.2.1:4", ErrPerIP},
			{"192.0.2.2:1", ErrPerNet},
		}},
		{"-1 lifts per address and per network", Limits{PerIP: -1, PerNet: 2}, []step{
			{"192.0.2.1:1", nil}, {"192.0.2.1:2", nil}, {"192.0.2.1:3", nil},
			{"192.0.2.2:1", nil}, {"192.0.2.3:1", nil}, {"[2001:db8::1]:1", nil},
			{"[2001:db8::1]:2", nil}, {"[2001:db8::1]:3", nil},
		}},
		{"not IP: totals only", Limits{PerIP: 1, Total: 2}, []step{
			{"", nil},
			{"", nil},
			{"", ErrTotal},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.lim.Total == 0 {
				tc.lim.Total = 100
			}
			l := New(tc.lim)
			var conns []*Conn
			for i, s := range tc.steps {
				before := l.Open()
				c, err := l.Acquire(from(t, s.remote))
				if !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
					t.Fatalf("step %d (%s): %v, want %v", i, s.remote, err, s.want)
				}
				if err != nil {
					if l.Open() != before {
						t.Fatalf("step %d: a refusal changed the count", i)
					}
					continue
				}
				// Logged in: the total refuses, evicting nothing.
				c.Authenticated()
				conns = append(conns, c)
			}
			for _, c := range conns {
				c.Close()
				c.Close() // twice: no effect
			}
			if l.Open() != 0 || l.Unauthenticated() != 0 {
				t.Fatalf("after close: %d open, %d unauthenticated", l.Open(), l.Unauthenticated())
			}
		})
	}
}

// reading makes c wait for its client, as a server waits for the next
// command; the channel gets the error that ends the wait.
func reading(c *Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	return done
}

func closed(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("%s: read data, want closed", what)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still open", what)
	}
}

func open(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s: closed (%v)", what, err)
	default:
	}
}

// TestEvict: unauthenticated connections hold at most 80% of the total;
// past that, and at the total, a new connection closes the oldest idle
// unauthenticated one and takes its place. Authenticated and busy
// connections are never evicted; with nothing to evict the total refuses.
func TestEvict(t *testing.T) {
	l := New(Limits{Total: 10, PerIP: -1})
	type tracked struct {
		c    *Conn
		done <-chan error
	}
	acquire := func(what string) tracked {
		t.Helper()
		c, err := l.Acquire(from(t, "192.0.2.1:1"))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return tracked{c, reading(c)}
	}
	var unauth []tracked
	for i := 0; i < 8; i++ {
		unauth = append(unauth, acquire("unauthenticated"))
	}
	// The 9th unauthenticated one: the oldest makes room.
	unauth = append(unauth, acquire("past the unauthenticated share"))
	closed(t, "oldest unauthenticated", unauth[0].done)
	if !unauth[0].c.Evicted() {
		t.Fatal("oldest not marked evicted")
	}
	unauth = unauth[1:]
	if l.Open() != 8 || l.Unauthenticated() != 8 {
		t.Fatalf("%d open, %d unauthenticated; want 8, 8", l.Open(), l.Unauthenticated())
	}
	// Two log in: they leave the unauthenticated share.
	authed := unauth[:2]
	unauth = unauth[2:]
	for _, a := range authed {
		a.c.Authenticated()
	}
	for i := 0; i < 2; i++ {
		unauth = append(unauth, acquire("within the share"))
	}
	if l.Open() != 10 || l.Unauthenticated() != 8 {
		t.Fatalf("%d open, %d unauthenticated; want 10, 8", l.Open(), l.Unauthenticated())
	}
	// At the total and the share: evict, never the authenticated ones,
	// however old.
	for i := 0; i < 8; i++ {
		unauth = append(unauth, acquire("at the total"))
		closed(t, "oldest unauthenticated at the total", unauth[0].done)
		unauth = unauth[1:]
	}
	for _, a := range authed {
		open(t, "authenticated", a.done)
	}
	// A busy connection (an SMTP client sending data) is not evicted
	// either; with none idle the total refuses.
	for _, u := range unauth {
		u.c.SetBusy(true)
	}
	if _, err := l.Acquire(from(t, "192.0.2.1:1")); !errors.Is(err, ErrTotal) {
		t.Fatalf("all busy: %v, want ErrTotal", err)
	}
	unauth[3].c.SetBusy(false)
	unauth = append(unauth, acquire("one idle again"))
	closed(t, "the one idle", unauth[3].done)
	for _, u := range append(unauth[:3], unauth[4:8]...) {
		open(t, "busy", u.done)
	}
	if l.Open() != 10 || l.Unauthenticated() != 8 {
		t.Fatalf("%d open, %d unauthenticated; want 10, 8", l.Open(), l.Unauthenticated())
	}
}

// TestPreAuthTimeout: a connection that has not authenticated within the
// limit is closed, a busy one once it is no longer busy; an authenticated
// one stays.
func TestPreAuthTimeout(t *testing.T) {
	l := New(Limits{Total: 10, PerIP: -1, PreAuthTimeout: 20 * time.Millisecond})
	acquire := func() (*Conn, <-chan error) {
		c, err := l.Acquire(from(t, "192.0.2.1:1"))
		if err != nil {
			t.Fatal(err)
		}
		return c, reading(c)
	}
	_, unauthDone := acquire()
	authed, authedDone := acquire()
	authed.Authenticated()
	busy, busyDone := acquire()
	busy.SetBusy(true)
	closed(t, "unauthenticated past the limit", unauthDone)
	// The busy one has passed its limit too by now.
	for {
		busy.mu.Lock()
		expired := busy.expired
		busy.mu.Unlock()
		if expired {
			break
		}
		time.Sleep(time.Millisecond)
	}
	open(t, "busy past the limit", busyDone)
	busy.SetBusy(false)
	closed(t, "busy, then idle past the limit", busyDone)
	open(t, "authenticated", authedDone)
	authed.Close()
	closed(t, "authenticated, closed", authedDone)
}

// TestListen: past the cap the listener refuses in the protocol's words
// and goes on accepting; closing a connection frees its place.
func TestListen(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := New(Limits{Total: 10, PerIP: 2})
	l := Listen(inner, lim, func(c net.Conn, err error) {
		io.WriteString(c, "BUSY "+err.Error()+"\n")
	})
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "HELLO\n")
				io.Copy(io.Discard, c) // until the client closes
			}()
		}
	}()
	dial := func() (net.Conn, string) {
		t.Helper()
		c, err := net.DialTimeout("tcp", inner.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return c, line
	}
	a, line := dial()
	if line != "HELLO\n" {
		t.Fatalf("first: %q", line)
	}
	b, line := dial()
	if line != "HELLO\n" {
		t.Fatalf("second: %q", line)
	}
	// Several refused in a row: Accept does not wait for a place.
	for i := 0; i < 3; i++ {
		c, line := dial()
		if line != "BUSY "+ErrPerIP.Error()+"\n" {
			t.Fatalf("past the cap: %q", line)
		}
		if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("refused connection left open")
		}
		c.Close()
	}
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for lim.Open() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := lim.Open(); n != 1 {
		t.Fatalf("%d open after one closed, want 1", n)
	}
	c, line := dial()
	if line != "HELLO\n" {
		t.Fatalf("after a close: %q", line)
	}
	c.Close()
	b.Close()
}

// TestListenUnix: a Unix socket listener counts totals.
func TestListenUnix(t *testing.T) {
	inner, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	lim := New(Limits{Total: 1, PerIP: 1})
	l := Listen(inner, lim, func(c net.Conn, err error) { io.WriteString(c, "BUSY\n") })
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// Logged in at once: nothing to evict at the total.
			c.(*Conn).Authenticated()
			go func() { defer c.Close(); io.WriteString(c, "HELLO\n"); io.Copy(io.Discard, c) }()
		}
	}()
	var lines []string
	for i := 0; i < 2; i++ {
		c, err := net.Dial("unix", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		lines = append(lines, line)
	}
	if lines[0] != "HELLO\n" || lines[1] != "BUSY\n" {
		t.Fatalf("unix: %q", lines)
	}
}
