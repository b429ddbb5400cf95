// Package mailtest holds what the tests of the mail protocol servers
// (mailsvc/smtpd, imapd, pop3d) and of the queue share: connections from a
// chosen loopback address, the connection-cap check of a server with a
// plain and an implicit-TLS port, a mailbox's INBOX as a client reads it,
// python3 for the tests driven by Python's mail clients, and mbsync for
// the IMAP tests driven by isync.
//
// Only _test.go files import it (imports_test.go checks): it imports
// testing, and never panel or cmd.
package mailtest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// DialFrom connects to addr from the loopback address local (all of 127/8
// is loopback on Linux), over implicit TLS when tlsConfig is not nil, and
// returns the connection, a reader on it, and the first line the server
// sends without its CRLF, "" if it closes at once. The connection is
// closed when the test ends.
func DialFrom(t testing.TB, local, addr string, tlsConfig *tls.Config) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, local, err)
	}
	t.Cleanup(func() { c.Close() })
	if tlsConfig != nil {
		tc := tls.Client(c, tlsConfig)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("handshake with %s from %s: %v", addr, local, err)
		}
		c = tc
	}
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := r.ReadString('\n')
	return c, r, strings.TrimRight(line, "\r\n")
}

// Closed reports whether the server has closed c: a read through r, the
// reader on c, gets nothing and an error other than the deadline within 5
// seconds.
func Closed(c net.Conn, r io.Reader) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := r.Read(make([]byte, 64))
	var ne net.Error
	return n == 0 && err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// Python3 finds python3, for the tests that drive a server with Python's
// smtplib, imaplib or poplib, clients that are not ours. Without it the
// test is skipped, except under CI=true, where its absence is a failure.
func Python3(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but python3 is not installed")
		}
		t.Skip("python3 not installed: the Python client test did not run")
	}
	return py
}

// Mbsync finds mbsync (Debian's isync), for the IMAP tests that sync with
// it, a client that is not ours (.ci/run installs isync).
func Mbsync(t testing.TB) string { t.Helper(); return Tool(t, "mbsync", "isync") }

// Ldapsearch finds OpenLDAP's ldapsearch (Debian's ldap-utils), the LDAP
// client of the directory tests (.ci/run installs ldap-utils).
func Ldapsearch(t testing.TB) string { t.Helper(); return Tool(t, "ldapsearch", "ldap-utils") }

// Tool finds the program bin of Debian's package pkg, a client that is
// not ours. Without it the test is skipped, except under CI=true, where
// its absence is a failure.
func Tool(t testing.TB, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s (Debian's %s) is not installed", bin, pkg)
		}
		t.Skipf("%s not installed (Debian's %s): the client test did not run", bin, pkg)
	}
	return p
}

// PythonDKIM finds Debian's /usr/bin/python3 with python3-dkim (dkimpy)
// and python3-nacl (its Ed25519), the independent DKIM verifier of the
// signing tests. Without them the test is skipped, except under CI=true,
// where their absence is a failure (.ci/run installs them).
func PythonDKIM(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import dkim, nacl.signing").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but /usr/bin/python3 has no python3-dkim and python3-nacl")
		}
		t.Skip("python3-dkim or python3-nacl not installed: the dkimpy check did not run")
	}
	return py
}

// SieveConnect finds Debian's sieve-connect, the ManageSieve client of the
// mailsvc/sieved tests (.ci/run installs it).
func SieveConnect(t testing.TB) string {
	t.Helper()
	return Tool(t, "sieve-connect", "sieve-connect")
}
