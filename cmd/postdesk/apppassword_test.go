package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// appPasswordScript logs in with Python's imaplib, poplib and smtplib and
// prints, per protocol asked (a comma list), "ok" or the server's refusal.
const appPasswordScript = `
import imaplib, poplib, smtplib, sys
imap, pop, sub, user, pw, which = sys.argv[1:]
def run(name, f):
    try:
        f()
        print(name, 'ok')
    except Exception as e:
        print(name, 'refused', str(e).replace('\n', ' '))
def do_imap():
    h, p = imap.rsplit(':', 1)
    m = imaplib.IMAP4(h, int(p))
    m.login(user, pw)
    assert m.select('INBOX')[0] == 'OK'
    m.logout()
def do_pop():
    h, p = pop.rsplit(':', 1)
    m = poplib.POP3(h, int(p))
    m.user(user)
    m.pass_(pw)
    m.stat()
    m.quit()
def do_smtp():
    h, p = sub.rsplit(':', 1)
    s = smtplib.SMTP(h, int(p))
    s.ehlo()
    s.login(user, pw)
    s.quit()
for name in which.split(','):
    run(name, {'imap': do_imap, 'pop3': do_pop, 'smtp': do_smtp}[name])
`

// TestAppPasswordProtocols: an app password made with the CLI logs in over
// IMAP and SMTP, the protocols it allows, and not over POP3 (Python's
// clients against the real binary); once two factors are on, the own
// password logs in nowhere and the app password still does; removed with
// the CLI, it logs in nowhere. Both engines.
func TestAppPasswordProtocols(t *testing.T) {
	py := mailtest.Python3(t)
	bin := buildBinary(t)
	script := filepath.Join(t.TempDir(), "login.py")
	if err := os.WriteFile(script, []byte(appPasswordScript), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			data := t.TempDir()
			imapAddr, popAddr, subAddr, httpAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
			env := []string{"POSTDESK_DATA=" + data, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
				"POSTDESK_HTTP_ADDR=" + httpAddr, "POSTDESK_SMTP_ADDR=", "POSTDESK_SUBMISSION_ADDR=" + subAddr,
				"POSTDESK_SUBMISSIONS_ADDR=", "POSTDESK_IMAP_ADDR=" + imapAddr, "POSTDESK_IMAPS_ADDR=",
				"POSTDESK_POP3_ADDR=" + popAddr, "POSTDESK_POP3S_ADDR=",
				"POSTDESK_ALLOW_PLAINTEXT_AUTH=true", "POSTDESK_HOSTNAME=mail.local.test",
				"POSTDESK_ADMIN_PASSWORD=Adm1n-pass-word!", "POSTDESK_MIN_FREE_DISK=0"}
			dbc := database.Config{DataDir: data}
			if eng == database.Postgres {
				dbc.URL = tenantstest.PostgresURL(t)
				env = append(env, "POSTDESK_DATABASE_URL="+dbc.URL)
			}
			runCLI(t, bin, env, "domain", "add", "local.test")
			runCLI(t, bin, env, "mailbox", "add", crashLocalRcpt, "--password", crashPassword)
			out := runCLI(t, bin, env, "app-password", "add", crashLocalRcpt, "Phone", "--protocols", "imap,smtp")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			appPW := lines[len(lines)-1]
			if !strings.Contains(out, "imap,smtp") || len(appPW) != 29 {
				t.Fatalf("app-password add: %q", out)
			}
			if l := runCLI(t, bin, env, "app-password", "list", crashLocalRcpt); !strings.Contains(l, "Phone") || !strings.Contains(l, "never") || strings.Contains(l, appPW) {
				t.Fatalf("app-password list: %q", l)
			}
			startServe(t, bin, env, "http://"+httpAddr)
			// Each refusal counts in the shared throttle: the tries are few
			// enough that none is refused for a lock.
			want := func(pw string, want map[string]string) map[string]string {
				t.Helper()
				var which []string
				for _, k := range []string{"imap", "pop3", "smtp"} {
					if want[k] != "" {
						which = append(which, k)
					}
				}
				out, err := exec.Command(py, script, imapAddr, popAddr, subAddr, crashLocalRcpt, pw, strings.Join(which, ",")).CombinedOutput()
				if err != nil {
					t.Fatalf("python: %v\n%s", err, out)
				}
				got := map[string]string{}
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					k, v, _ := strings.Cut(l, " ")
					got[k] = v
				}
				for k, w := range want {
					if !strings.HasPrefix(got[k], w) || strings.Contains(got[k], "too many") {
						t.Errorf("%s with %q: %q, want %s", k, pw, got[k], w)
					}
				}
				return got
			}
			want(appPW, map[string]string{"imap": "ok", "smtp": "ok", "pop3": "refused"})
			want(strings.ReplaceAll(appPW, "-", ""), map[string]string{"imap": "ok"})
			want(crashPassword, map[string]string{"imap": "ok", "pop3": "ok", "smtp": "ok"})
			if l := runCLI(t, bin, env, "app-password", "list", crashLocalRcpt); strings.Contains(l, "never") {
				t.Fatalf("app-password list after use: %q", l)
			}

			// Two factors on, through the tenants calls on the same database
			// (the panel's pages do the same).
			ctx := context.Background()
			db, err := database.Open(ctx, dbc)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			svc := tenants.New(db, tenants.Options{})
			l, err := svc.ResolveLogin(ctx, tenants.PanelLogin, crashLocalRcpt, crashPassword, "")
			if err != nil {
				t.Fatal(err)
			}
			en, err := svc.BeginTOTP(ctx, l, "Postdesk")
			if err != nil {
				t.Fatal(err)
			}
			code, err := totp.GenerateCodeCustom(en.Secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ConfirmTOTP(ctx, l, code); err != nil {
				t.Fatal(err)
			}
			if got := want(crashPassword, map[string]string{"imap": "refused", "pop3": "refused", "smtp": "refused"})["imap"]; !strings.Contains(got, "app password") {
				t.Errorf("imap refusal does not say why: %q", got)
			}
			want(appPW, map[string]string{"imap": "ok", "smtp": "ok", "pop3": "refused"})

			runCLI(t, bin, env, "app-password", "rm", crashLocalRcpt, "Phone")
			want(appPW, map[string]string{"imap": "refused", "smtp": "refused"})
		})
	}
}
