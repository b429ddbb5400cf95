package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// cliEnv runs CLI commands against one fresh database of an engine.
type cliEnv struct {
	t    *testing.T
	flag []string
}

func newCLIEnv(t *testing.T, eng database.Dialect) *cliEnv {
	if eng == database.Postgres {
		return &cliEnv{t: t, flag: []string{"--database", tenantstest.PostgresURL(t), "--data", t.TempDir()}}
	}
	return &cliEnv{t: t, flag: []string{"--data", t.TempDir()}}
}

// run runs one command; global flags go last, to show they may follow the
// positional arguments.
func (e *cliEnv) run(stdin string, args ...string) (string, error) {
	var out bytes.Buffer
	args = append(args, e.flag...)
	args = append(args, "--log-level", "warn")
	err := run(context.Background(), args, strings.NewReader(stdin), &out)
	return out.String(), err
}

func (e *cliEnv) ok(args ...string) string {
	e.t.Helper()
	out, err := e.run("", args...)
	if err != nil {
		e.t.Fatalf("postdesk %s: %v", strings.Join(args, " "), describe(err))
	}
	return out
}

func (e *cliEnv) fails(want string, args ...string) {
	e.t.Helper()
	_, err := e.run("", args...)
	if err == nil {
		e.t.Fatalf("postdesk %s succeeded, want an error with %q", strings.Join(args, " "), want)
	}
	if msg := describe(err); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		e.t.Fatalf("postdesk %s: error %q, want one line with %q", strings.Join(args, " "), msg, want)
	}
}

const pw = "Xk9#mq2!pLw7z"

func TestCLI(t *testing.T) {
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			e := newCLIEnv(t, eng)
			e.ok("migrate")
			e.ok("migrate") // a no-op the second time
			e.ok("domain", "add", "Example.TEST")
			e.ok("domain", "add", "bücher.test")
			e.fails("already exists", "domain", "add", "example.test")
			e.fails("domain", "domain", "add", "not a domain")
			if out := e.ok("domain", "list"); !strings.Contains(out, "example.test") || !strings.Contains(out, "xn--bcher-kva.test") {
				t.Fatalf("domain list:\n%s", out)
			}

			// Flags before and after the positional arguments.
			e.ok("mailbox", "add", "--name", "John Doe", "john@example.test", "--password", pw, "--quota", "1G")
			if _, err := e.run(pw+"\n", "mailbox", "add", "ann@example.test", "--password-stdin"); err != nil {
				t.Fatalf("password from stdin: %v", err)
			}
			e.ok("mailbox", "add", "imported@example.test", "--password-hash", "{SHA512-CRYPT}$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/")
			e.fails("password", "mailbox", "add", "weak@example.test", "--password", "password")
			e.fails("address", "mailbox", "add", "bad@@example.test", "--password", pw)
			e.fails("not found", "mailbox", "add", "x@nosuch.test", "--password", pw)
			e.fails("exactly one", "mailbox", "add", "y@example.test")
			e.ok("alias", "add", "sales@example.test", "john@example.test")
			e.fails("already taken", "alias", "add", "sales@example.test", "john@example.test")
			e.fails("already taken", "mailbox", "add", "sales@example.test", "--password", pw)
			out := e.ok("mailbox", "list", "example.test")
			for _, want := range []string{"john@example.test", "John Doe", "1G", "ann@example.test", "imported@example.test"} {
				if !strings.Contains(out, want) {
					t.Fatalf("mailbox list lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "weak@") || strings.Contains(out, "y@example") {
				t.Fatalf("refused mailbox written:\n%s", out)
			}
			if out := e.ok("alias", "list", "example.test"); !strings.Contains(out, "sales@example.test") {
				t.Fatalf("alias list:\n%s", out)
			}

			// Limits are enforced and nothing is half-written.
			e.ok("domain", "set", "example.test", "--max-mailboxes", "3", "--default-quota", "500M", "--postmaster", "john@example.test")
			e.fails("at most 3 mailboxes", "mailbox", "add", "four@example.test", "--password", pw)
			e.ok("domain", "set", "--alias-of", "example.test", "bücher.test")
			e.fails("alias domain", "mailbox", "add", "x@bücher.test", "--password", pw)
			if out := e.ok("domain", "list"); !strings.Contains(out, "john@example.test") || !strings.Contains(out, "500M") {
				t.Fatalf("domain list after set:\n%s", out)
			}
			e.fails("must not exceed", "domain", "set", "example.test", "--max-mailbox-quota", "100M")
			e.fails("--storage-total", "domain", "set", "example.test", "--storage-total", "lots")
			e.ok("domain", "set", "example.test", "--max-mailbox-quota", "2G", "--storage-total", "10G")
			if out := e.ok("domain", "list"); !strings.Contains(out, "2G") || !strings.Contains(out, "10G") {
				t.Fatalf("domain list after quota limits:\n%s", out)
			}
			e.ok("domain", "set", "example.test", "--max-mailbox-quota", "0", "--storage-total", "0")
			e.fails("give none, testing or enforce", "domain", "set", "example.test", "--mta-sts", "strict")
			e.fails("not found", "domain", "set", "nowhere.test", "--mta-sts", "enforce")
			e.ok("domain", "set", "example.test", "--mta-sts", "enforce")
			e.ok("domain", "set", "example.test", "--mta-sts", "testing", "--description", "Example")

			e.ok("mailbox", "set", "ann@example.test", "--active=false", "--may-send=false", "--webmail=false", "--expires", "2026-12-24", "--expire-inactive-days", "90", "--postmaster")
			out = e.ok("mailbox", "list", "example.test", "--search", "ann")
			if !strings.Contains(out, "2026-12-24T00:00:00Z") || !strings.Contains(out, "false") {
				t.Fatalf("mailbox set not shown:\n%s", out)
			}
			e.fails("store-mail", "mailbox", "set", "ann@example.test", "--store-mail=false")
			e.ok("forward", "set", "ann@example.test", "--to", "x@remote.test,john@example.test", "--keep=false")
			e.fails("loop", "forward", "set", "john@example.test", "--to", "ann@example.test")
			e.ok("responder", "set", "john@example.test", "--subject", "Away", "--body", strings.Repeat("x", 4096), "--from", "2026-12-01", "--until", "2027-01-01T00:00:00Z")
			e.fails("date", "responder", "set", "john@example.test", "--subject", "Away", "--body", "b", "--from", "tomorrow")
			e.ok("responder", "off", "john@example.test")
			if _, err := e.run("Another#Strong9pw\n", "mailbox", "passwd", "john@example.test"); err != nil {
				t.Fatalf("passwd: %v", err)
			}
			e.fails("password", "mailbox", "passwd", "john@example.test")

			out = e.ok("admin", "add", "ops")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines[len(lines)-1]) < 16 {
				t.Fatalf("admin add printed no password:\n%s", out)
			}
			e.fails("already exists", "admin", "add", "ops")
			for _, args := range [][]string{{"apikey", "create", "--admin"}, {"apikey", "create", "--domain", "example.test"}} {
				out := e.ok(args...)
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if !strings.HasPrefix(lines[len(lines)-1], "pd_") {
					t.Fatalf("%v: key not alone on the last line:\n%s", args, out)
				}
			}
			if out := e.ok("postmaster"); !strings.Contains(out, "no system postmaster") {
				t.Fatalf("postmaster with none named:\n%s", out)
			}
			e.ok("postmaster", "john@example.test")
			if out := e.ok("postmaster"); !strings.Contains(out, "system postmaster is john@example.test") {
				t.Fatalf("postmaster shown:\n%s", out)
			}
			e.fails("not a mailbox", "postmaster", "nobody@example.test")
			e.ok("postmaster", "-")
			if out := e.ok("postmaster"); !strings.Contains(out, "system mailbox") {
				t.Fatalf("postmaster after clearing:\n%s", out)
			}
			e.ok("postmaster", "john@example.test")

			e.fails("still has", "domain", "rm", "example.test")
			e.ok("alias", "rm", "sales@example.test")
			e.fails("not found", "alias", "rm", "sales@example.test")
			e.ok("mailbox", "rm", "imported@example.test")
			e.ok("domain", "rm", "example.test", "--force")
			if out := e.ok("domain", "list"); strings.Contains(out, "example.test") {
				t.Fatalf("domain still listed:\n%s", out)
			}
			e.fails("unknown command", "frobnicate")
		})
	}
}
