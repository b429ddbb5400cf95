package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// panelEnv is the environment of a binary serving the panel alone, at
// httpAddr, on a fresh data folder: every mail listener off, the first
// administrator's password set, PostgreSQL when eng says so. extra comes
// last and wins (os/exec keeps the last value of a key).
func panelEnv(t *testing.T, eng database.Dialect, httpAddr string, extra ...string) []string {
	t.Helper()
	env := []string{"POSTDESK_DATA=" + t.TempDir(), "POSTDESK_HTTP_ADDR=" + httpAddr, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"POSTDESK_SMTP_ADDR=", "POSTDESK_SUBMISSION_ADDR=", "POSTDESK_SUBMISSIONS_ADDR=", "POSTDESK_IMAP_ADDR=", "POSTDESK_IMAPS_ADDR=",
		"POSTDESK_POP3_ADDR=", "POSTDESK_POP3S_ADDR=", "POSTDESK_ADMIN_PASSWORD=Adm1n-pass-word!"}
	if eng == database.Postgres {
		env = append(env, "POSTDESK_DATABASE_URL="+tenantstest.PostgresURL(t))
	}
	return append(env, extra...)
}

// runCLI runs a command of bin with env and returns its standard output;
// a failure fails the test.
func runCLI(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(listenersOff(), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("postdesk %v: %v\n%s%s", args, err, out, stderr)
	}
	return string(out)
}

// startServe runs `postdesk serve` with env until the test ends, waits
// until /healthz at base answers, and returns its log.
func startServe(t *testing.T, bin string, env []string, base string) *syncBuffer {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(listenersOff(), env...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitHTTP(t, base+"/healthz")
	return logs
}

// listenersOff switches off every listener serve has (each *_ADDR
// setting but the panel's), read from serve's own flags so that a
// listener added later is off too: a test's binary then opens only what
// the test names after these, and never collides with another test's (or
// another program's) default port.
func listenersOff() []string {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.register(fs, true)
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		i := strings.LastIndex(f.Usage, "($")
		if i < 0 {
			return
		}
		env := strings.TrimSuffix(f.Usage[i+2:], ")")
		if strings.HasSuffix(env, "_ADDR") && env != "POSTDESK_HTTP_ADDR" {
			out = append(out, env+"=")
		}
	})
	return out
}

// TestListenersOff: the helper finds the listeners, LDAP's among them.
func TestListenersOff(t *testing.T) {
	got := strings.Join(listenersOff(), " ")
	for _, want := range []string{"POSTDESK_SMTP_ADDR=", "POSTDESK_IMAPS_ADDR=", "POSTDESK_LDAP_ADDR=", "POSTDESK_LDAPS_ADDR="} {
		if !strings.Contains(got, want) {
			t.Errorf("listenersOff() = %s, lacks %s", got, want)
		}
	}
	if strings.Contains(got, "POSTDESK_HTTP_ADDR") {
		t.Error("listenersOff() switches the panel off")
	}
}
