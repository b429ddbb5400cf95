package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestBackupRestore: a backup taken while SMTP clients keep delivering,
// restored onto a new data folder and database, holds every message
// acknowledged before the backup started, with its flags and folder; a
// second restore onto the now non-empty instance is refused.
func TestBackupRestore(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) { testBackupRestore(t, bin, eng) })
	}
}

const backupPassword = "Xk9#mq2!pLw7z"

func backupEnv(t *testing.T, eng database.Dialect) (env []string, httpAddr, mxAddr, imapAddr string) {
	httpAddr, mxAddr, imapAddr = freeAddr(t), freeAddr(t), freeAddr(t)
	env = panelEnv(t, eng, httpAddr, "POSTDESK_SMTP_ADDR="+mxAddr, "POSTDESK_IMAP_ADDR="+imapAddr,
		"POSTDESK_ALLOW_PLAINTEXT_AUTH=true", "POSTDESK_HOSTNAME=mail.local.test", "POSTDESK_MIN_FREE_DISK=0",
		// Nothing answers DNS there: SPF and DMARC lookups fail at once
		// instead of waiting out a resolver's timeout, so the load is steady.
		"POSTDESK_DNS_SERVER="+crashDeadUDPAddr(t))
	return env, httpAddr, mxAddr, imapAddr
}

func backupIMAP(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatalf("imap dial: %v", err)
	}
	if err := c.Login("john@local.test", backupPassword).Wait(); err != nil {
		t.Fatalf("imap login: %v", err)
	}
	return c
}

// backupFolder returns Message-ID -> flags of the messages in folder.
func backupFolder(t *testing.T, c *imapclient.Client, folder string) map[string][]imap.Flag {
	t.Helper()
	sel, err := c.Select(folder, nil).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", folder, err)
	}
	out := map[string][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	// The body too: the restored blobs are read, not only the rows.
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true, Flags: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatalf("fetch %s: %v", folder, err)
	}
	for _, b := range bufs {
		id := b.Envelope.MessageID
		if body := string(b.FindBodySection(section)); !strings.Contains(body, "Backup test message "+id+".") {
			t.Errorf("%s %s: body %q", folder, id, body)
		}
		var flags []imap.Flag
		for _, f := range b.Flags {
			if f != `\Recent` { // per session (RFC 3501 2.3.2)
				flags = append(flags, f)
			}
		}
		out[b.Envelope.MessageID] = flags
	}
	return out
}

func backupSend(t *testing.T, c *smtp.Client, id string) error {
	if err := c.Mail("someone@elsewhere.test", nil); err != nil {
		return err
	}
	if err := c.Rcpt("john@local.test", nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: someone@elsewhere.test\r\nTo: john@local.test\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\nBackup test message %s.\r\n", id, id, id)
	return w.Close()
}

func testBackupRestore(t *testing.T, bin string, eng database.Dialect) {
	env, httpAddr, mxAddr, imapAddr := backupEnv(t, eng)
	runCLI(t, bin, env, "domain", "add", "local.test")
	runCLI(t, bin, env, "mailbox", "add", "john@local.test", "--password", backupPassword)
	startServe(t, bin, env, "http://"+httpAddr)

	// Three messages whose flags and folder the restore must keep.
	first := dialWhenUp(t, mxAddr)
	for _, id := range []string{"flagged@client.test", "moved@client.test", "plain@client.test"} {
		if err := backupSend(t, first, id); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
	}
	first.Quit()
	c := backupIMAP(t, imapAddr)
	if err := c.Create("Projects", nil).Wait(); err != nil {
		t.Fatalf("create Projects: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, imap.FlagSeen, "$Label1"}}, nil).Close(); err != nil {
		t.Fatalf("store: %v", err)
	}
	if _, err := c.Move(imap.SeqSetNum(2), "Projects").Wait(); err != nil {
		t.Fatalf("move: %v", err)
	}
	wantInbox, wantProjects := backupFolder(t, c, "INBOX"), backupFolder(t, c, "Projects")
	c.Logout().Wait()
	if len(wantInbox) != 2 || len(wantProjects) != 1 {
		t.Fatalf("before the load: INBOX %v, Projects %v", wantInbox, wantProjects)
	}

	// The load: clients deliver until the backup is over.
	var (
		mu    sync.Mutex
		acked []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := dialWhenUp(t, mxAddr)
			defer sc.Close()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("load-c%d-m%d@client.test", i, n)
				if err := backupSend(t, sc, id); err != nil {
					t.Errorf("send %s: %v", id, err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 30 {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("only %d messages acknowledged in 30 s", n)
		}
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	dir := filepath.Join(t.TempDir(), "backup")
	start := time.Now()
	out := runCLI(t, bin, env, "backup", dir)
	took := time.Since(start)
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	if during == 0 {
		t.Error("no message was acknowledged while the backup ran: delivery waited for it")
	}
	// A second run while mail still flows copies only new blobs: one the
	// first run copied keeps its file.
	blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "*", "*", "*"))
	if len(blobs) == 0 {
		t.Fatal("no blobs in the backup")
	}
	st1, err := os.Stat(blobs[0])
	if err != nil {
		t.Fatal(err)
	}
	out += runCLI(t, bin, env, "backup", dir)
	if st2, err := os.Stat(blobs[0]); err != nil || !os.SameFile(st1, st2) {
		t.Errorf("the second backup rewrote blob %s (%v)", blobs[0], err)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%s(%d acknowledged before the backup, %d during the first run of %v, %d in all)", out, len(before), during, took, len(acked))
	if t.Failed() {
		return
	}
	runCLI(t, bin, env, "backup", "verify", dir)

	// Restore onto a new data folder and database, and serve from them.
	env2, httpAddr2, _, imapAddr2 := backupEnv(t, eng)
	runCLI(t, bin, env2, "restore", dir)
	startServe(t, bin, env2, "http://"+httpAddr2)
	c = backupIMAP(t, imapAddr2)
	defer c.Logout()
	gotInbox, gotProjects := backupFolder(t, c, "INBOX"), backupFolder(t, c, "Projects")
	for id, want := range wantInbox {
		if got, ok := gotInbox[id]; !ok || !sameFlags(got, want) {
			t.Errorf("INBOX %s: restored %v (present %v), want %v", id, got, ok, want)
		}
	}
	for id, want := range wantProjects {
		if got, ok := gotProjects[id]; !ok || !sameFlags(got, want) {
			t.Errorf("Projects %s: restored %v (present %v), want %v", id, got, ok, want)
		}
	}
	var missing []string
	for _, id := range before {
		if _, ok := gotInbox[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d messages acknowledged before the backup are not in the restored INBOX: %v", len(missing), len(before), missing)
	}

	// The restored instance is not empty: a second restore is refused.
	cmd := exec.Command(bin, "restore", dir)
	cmd.Env = append(listenersOff(), env2...)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
		t.Errorf("restore onto a restored instance: %v %s, want a refusal", err, out)
	}
	// A database that holds domains is refused even with an empty data folder.
	if eng == database.Postgres {
		env3 := append(append([]string(nil), env2...), "POSTDESK_DATA="+t.TempDir())
		cmd := exec.Command(bin, "restore", dir)
		cmd.Env = append(listenersOff(), env3...)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
			t.Errorf("restore onto a non-empty database: %v %s, want a refusal", err, out)
		}
		if ents, _ := os.ReadDir(envValue(env3, "POSTDESK_DATA")); len(ents) > 0 {
			t.Errorf("a refused restore wrote %d entries into the data folder", len(ents))
		}
	}
}

func sameFlags(a, b []imap.Flag) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[imap.Flag]bool{}
	for _, f := range a {
		set[f] = true
	}
	for _, f := range b {
		if !set[f] {
			return false
		}
	}
	return true
}

func envValue(env []string, key string) string {
	v := ""
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			v = strings.TrimPrefix(e, key+"=")
		}
	}
	return v
}
