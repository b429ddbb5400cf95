package pop3d_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestLoginAnswersPoplib, over Python's poplib: an unknown name, an
// administrator's name (with the right password), and a wrong password,
// for a disabled mailbox too, get one identical -ERR; only the right
// password of a disabled mailbox is told it is disabled (tenants decides,
// issue 11 item 8).
func TestLoginAnswersPoplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but python3 is not installed")
		}
		t.Skip("python3 not installed: the Python client test did not run")
	}
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		const adminPW = "Adm1n#Pass-word"
		_, err := e.ts.CreateAdmin(ctx, sc, "root", adminPW)
		tcheck(t, err, "admin")
		d, _ := address.ParseDomain("example.test")
		off := false
		_, err = e.ts.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: address.Address{Local: "off", Domain: d}, Password: password, Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox")
		_, err = e.ts.UpdateMailbox(ctx, sc, address.Address{Local: "off", Domain: d}, tenants.MailboxUpdate{Active: &off})
		tcheck(t, err, "disable")
		_, tport, _ := net.SplitHostPort(e.tlsAddr)
		// One line per login: the server's answer, as poplib raises it.
		script := `
import poplib, ssl, sys
port, cafile = sys.argv[1:3]
ctx = ssl.create_default_context(cafile=cafile)
args = sys.argv[3:]
for i in range(0, len(args), 2):
    p = poplib.POP3_SSL("127.0.0.1", int(port), context=ctx)
    try:
        p.user(args[i]); p.pass_(args[i+1])
        print("logged in")
    except poplib.error_proto as e:
        print(e.args[0].decode())
    p.close()
`
		f := filepath.Join(t.TempDir(), "pop.py")
		tcheck(t, os.WriteFile(f, []byte(script), 0o600), "script")
		cases := []struct{ what, user, pass string }{
			{"wrong password", "john@example.test", "wrong"},
			{"unknown name", "ghost@example.test", password},
			{"admin name, right password", "root", adminPW},
			{"admin name, wrong password", "root", "wrong"},
			{"disabled, wrong password", "off@example.test", "wrong"},
			{"disabled, right password", "off@example.test", password},
		}
		args := []string{f, tport, e.certFile}
		for _, c := range cases {
			args = append(args, c.user, c.pass)
		}
		out, err := exec.Command(py, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("poplib: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != len(cases) {
			t.Fatalf("poplib printed %q", out)
		}
		want := lines[0]
		if !strings.HasPrefix(want, "-ERR [AUTH]") {
			t.Fatalf("wrong password: %q", want)
		}
		for i, c := range cases[1 : len(cases)-1] {
			if lines[i+1] != want {
				t.Errorf("%s: %q, want the generic %q", c.what, lines[i+1], want)
			}
		}
		if got := lines[len(lines)-1]; got != "-ERR [AUTH] This account is disabled" {
			t.Errorf("disabled, right password: %q", got)
		}
	})
}
