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

func tcp(s string) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		panic(err)
	}
	return a
}

// TestAcquire: caps per address and in total, IPv6 grouped by /64, a
// child counting against its parent, a refusal counting nothing, release
// once only.
func TestAcquire(t *testing.T) {
	type step struct {
		lim    string // "root" or "child"
		remote net.Addr
		want   error
	}
	root := func() *Limiter { return New(Limits{Total: 4}) }
	for _, tc := range []struct {
		name  string
		child Limits
		steps []step
	}{
		{"per IPv4 address", Limits{PerIP: 2}, []step{
			{"child", tcp("192.0.2.1:1000"), nil},
			{"child", tcp("192.0.2.1:1001"), nil},
			{"child", tcp("192.0.2.1:1002"), ErrPerIP},
			{"child", tcp("192.0.2.2:1000"), nil},
		}},
		{"IPv6 by /64", Limits{PerIP: 2}, []step{
			{"child", tcp("[2001:db8::1]:1000"), nil},
			{"child", tcp("[2001:db8::2]:1000"), nil},
			{"child", tcp("[2001:db8::ffff:1]:1000"), ErrPerIP},
			{"child", tcp("[2001:db8:0:1::1]:1000"), nil},
		}},
		{"IPv4-mapped IPv6 is IPv4", Limits{PerIP: 1}, []step{
			{"child", tcp("192.0.2.1:1000"), nil},
			{"child", tcp("[::ffff:192.0.2.1]:1000"), ErrPerIP},
		}},
		{"parent total", Limits{PerIP: 10}, []step{
			{"root", tcp("192.0.2.1:1"), nil},
			{"root", tcp("192.0.2.2:1"), nil},
			{"child", tcp("192.0.2.3:1"), nil},
			{"child", tcp("192.0.2.4:1"), nil},
			{"child", tcp("192.0.2.5:1"), ErrTotal},
			{"root", tcp("192.0.2.5:1"), ErrTotal},
		}},
		{"child total", Limits{Total: 1}, []step{
			{"child", tcp("192.0.2.1:1"), nil},
			{"child", tcp("192.0.2.2:1"), ErrTotal},
			{"root", tcp("192.0.2.2:1"), nil},
		}},
		{"not IP: totals only", Limits{PerIP: 1, Total: 2}, []step{
			{"child", &net.UnixAddr{Name: "@", Net: "unix"}, nil},
			{"child", &net.UnixAddr{Name: "@", Net: "unix"}, nil},
			{"child", &net.UnixAddr{Name: "@", Net: "unix"}, ErrTotal},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := root()
			c := r.Child(tc.child)
			var releases []func()
			for i, s := range tc.steps {
				l := r
				if s.lim == "child" {
					l = c
				}
				before := r.Open()
				rel, err := l.Acquire(s.remote)
				if !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
					t.Fatalf("step %d (%s %s): %v, want %v", i, s.lim, s.remote, err, s.want)
				}
				if err != nil {
					if r.Open() != before {
						t.Fatalf("step %d: a refusal changed the count", i)
					}
					continue
				}
				releases = append(releases, rel)
			}
			for _, rel := range releases {
				rel()
				rel() // twice: no effect
			}
			if r.Open() != 0 || c.Open() != 0 {
				t.Fatalf("after release: root %d, child %d open", r.Open(), c.Open())
			}
		})
	}
}

// TestListen: past the cap the listener refuses in the protocol's words
// and goes on accepting; closing a connection frees its place.
func TestListen(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := New(Limits{Total: 10}).Child(Limits{PerIP: 2})
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
