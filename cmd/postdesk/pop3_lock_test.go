package main

import (
	"bufio"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestServePOP3LockAfterKill: a serve process killed with SIGKILL while a
// POP3 session holds a mailbox leaves no lock behind: the next process
// gives the mailbox to a new session at once, on both engines (the lock
// went with the dead process's database connection, or its flock), not
// [IN-USE] until a lease runs out.
func TestServePOP3LockAfterKill(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			s := &crashServer{t: t, bin: bin, data: t.TempDir()}
			if eng == database.Postgres {
				s.dbURL = tenantstest.PostgresURL(t)
			}
			pop3Addr := freeAddr(t)
			s.httpAddr = freeAddr(t)
			s.env = []string{"POSTDESK_DATA=" + s.data, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
				"POSTDESK_HTTP_ADDR=" + s.httpAddr, "POSTDESK_SMTP_ADDR=", "POSTDESK_SUBMISSION_ADDR=",
				"POSTDESK_SUBMISSIONS_ADDR=", "POSTDESK_IMAP_ADDR=", "POSTDESK_IMAPS_ADDR=",
				"POSTDESK_POP3_ADDR=" + pop3Addr, "POSTDESK_POP3S_ADDR=",
				"POSTDESK_ALLOW_PLAINTEXT_AUTH=true", "POSTDESK_HOSTNAME=mail.local.test",
				"POSTDESK_ADMIN_PASSWORD=Adm1n-pass-word!", "POSTDESK_MIN_FREE_DISK=0"}
			if s.dbURL != "" {
				s.env = append(s.env, "POSTDESK_DATABASE_URL="+s.dbURL)
			}
			t.Cleanup(func() {
				if s.running {
					s.cmd.Process.Kill()
					<-s.exited
				}
				if t.Failed() {
					for i, l := range s.runs {
						t.Logf("serve run %d log:\n%s", i+1, l.String())
					}
				}
			})
			s.cli("domain", "add", "local.test")
			s.cli("mailbox", "add", crashLocalRcpt, "--password", crashPassword)

			login := func(want string) net.Conn {
				t.Helper()
				c, err := net.DialTimeout("tcp", pop3Addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				for _, cmd := range []string{"", "USER " + crashLocalRcpt, "PASS " + crashPassword} {
					if cmd != "" {
						c.Write([]byte(cmd + "\r\n"))
					}
					l, err := r.ReadString('\n')
					if err != nil {
						t.Fatalf("%q: %v", cmd, err)
					}
					w := "+OK"
					if strings.HasPrefix(cmd, "PASS") {
						w = want
					}
					if !strings.HasPrefix(l, w) {
						t.Fatalf("%q: %q, want %s", cmd, l, w)
					}
				}
				return c
			}

			s.start()
			login("+OK")
			login("-ERR [IN-USE]") // the lock holds while the process lives
			s.cmd.Process.Kill()
			<-s.exited
			s.running = false

			s.start()
			login("+OK") // at once
		})
	}
}
