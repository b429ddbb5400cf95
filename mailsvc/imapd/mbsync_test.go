package imapd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/mailsvc/mailtest"
)

// TestMbsyncNonASCIIFolders: Debian's mbsync (isync 1.4) sends folder
// names as they are, raw UTF-8, without ENABLE UTF8=ACCEPT. Postdesk took
// such a name (CREATE, APPEND) and listed it back in modified UTF-7, so
// mbsync saw a second folder and copied the folder and its mail again on
// every sync (issue 13). Synced twice against the IMAPS listener, a folder
// with a non-ASCII name on the server (listed in modified UTF-7, which
// mbsync 1.4 keeps as the local name) and one on the client (whose raw
// name the server refuses, as Dovecot does) are each one folder with their
// mail once, on both sides.
func TestMbsyncNonASCIIFolders(t *testing.T) {
	mbsync := mailtest.Mbsync(t)
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		const far = "Привет"                  // made on the server
		const farMUTF7 = "&BB8EQAQ4BDIENQRC-" // as IMAP4rev1 lists it
		const near = "Ünï"                    // made in the local Maildir
		if _, err := e.st.CreateFolder(ctx, e.john, far, ""); err != nil {
			t.Fatalf("create folder: %v", err)
		}
		e.deliver(e.john, far, msgPlain)
		e.deliver(e.john, far, msgMultipart)

		dir := t.TempDir()
		maildir := filepath.Join(dir, "mail")
		for _, sub := range []string{"cur", "new", "tmp"} {
			tcheck(t, os.MkdirAll(filepath.Join(maildir, near, sub), 0o700), "maildir")
		}
		tcheck(t, os.WriteFile(filepath.Join(maildir, near, "cur", "1700000000.1.local:2,S"), []byte(msgPlain), 0o600), "local message")
		cert := filepath.Join(dir, "cert.pem")
		tcheck(t, os.WriteFile(cert, certPEM(t, e), 0o600), "cert")
		host, port, _ := strings.Cut(e.tlsAddr, ":")
		conf := filepath.Join(dir, "mbsyncrc")
		tcheck(t, os.WriteFile(conf, []byte(strings.Join([]string{
			"IMAPAccount postdesk",
			"Host " + host,
			"Port " + port,
			"User john@example.test",
			`Pass "` + password + `"`,
			"SSLType IMAPS",
			"SystemCertificates no",
			"CertificateFile " + cert,
			"",
			"IMAPStore far",
			"Account postdesk",
			"",
			"MaildirStore near",
			"Path " + maildir + "/",
			"Inbox " + filepath.Join(maildir, "INBOX"),
			"SubFolders Verbatim",
			"",
			"Channel all",
			"Far :far:",
			"Near :near:",
			"Patterns *",
			"Create Both",
			"Expunge None",
			"SyncState *",
			"",
		}, "\n")), 0o600), "config")

		for run := 1; run <= 2; run++ {
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			cmd := exec.CommandContext(cctx, mbsync, "-c", conf, "-a")
			cmd.Env = append(os.Environ(), "HOME="+dir)
			out, err := cmd.CombinedOutput()
			timedOut := cctx.Err() != nil
			cancel()
			// The refused CREATE of the raw name is an error mbsync
			// reports; what matters is what it did to the folders.
			t.Logf("mbsync run %d: %v\n%s", run, err, out)
			if timedOut {
				t.Fatalf("mbsync run %d timed out", run)
			}
		}

		// Local: the server's folder once (under the name LIST gave),
		// with its two messages; the local folder once, not copied back
		// under the modified UTF-7 of its name.
		entries, err := os.ReadDir(maildir)
		tcheck(t, err, "read maildir")
		var local []string
		for _, d := range entries {
			if d.IsDir() {
				local = append(local, d.Name())
			}
		}
		sort.Strings(local)
		want := []string{farMUTF7, "Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash", near}
		sort.Strings(want)
		if strings.Join(local, "|") != strings.Join(want, "|") {
			t.Errorf("local folders %q, want %q", local, want)
		}
		if n := maildirCount(t, filepath.Join(maildir, farMUTF7)); n != 2 {
			t.Errorf("local %s: %d messages, want 2", farMUTF7, n)
		}
		if n := maildirCount(t, filepath.Join(maildir, near)); n != 1 {
			t.Errorf("local %s: %d messages, want 1", near, n)
		}

		// Server: no folder made from the raw name, none from its
		// modified UTF-7, and the far folder's mail once.
		names := folderNames(t, e, e.john)
		if names[near] || len(names) != 7 {
			t.Errorf("server folders %v, want the six defaults and %s", names, far)
		}
		c := e.client("john@example.test", nil)
		st, err := c.Status(far, &imap.StatusOptions{NumMessages: true}).Wait()
		tcheck(t, err, "status")
		if *st.NumMessages != 2 {
			t.Errorf("server %s: %d messages, want 2", far, *st.NumMessages)
		}
	})
}

// maildirCount counts the messages of a Maildir folder.
func maildirCount(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("read %s: %v", dir, err)
		}
		n += len(entries)
	}
	return n
}
