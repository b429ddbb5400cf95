package mailtest

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// RspamdTestSubject in a message's Subject scores 8 with the rspamd that
// StartRspamd runs: past the add-header threshold (6), below reject (15).
// rspamd 3.4's own test patterns besides GTUBE are off by default, so the
// test configuration adds this symbol (a multimap on the Subject).
const RspamdTestSubject = "POSTDESK-TEST-SPAM"

// StartRspamd runs Debian's rspamd on free loopback ports with the
// package's configuration plus a local one for tests (no DNS reached, the
// test symbol above), and returns the normal worker's URL; it is stopped
// when the test ends. Without rspamd the test is skipped, except under
// CI=true, where its absence is a failure (.ci/run installs it).
func StartRspamd(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("rspamd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but rspamd is not installed")
		}
		t.Skip("rspamd not installed: the rspamd test did not run")
	}
	dir := t.TempDir()
	for _, d := range []string{"local.d", "run", "db"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	normal, controller, proxy, dns := freePort(t), freePort(t), freePort(t), freePort(t)
	files := map[string]string{
		"local.d/worker-normal.inc":     "bind_socket = \"127.0.0.1:" + normal + "\";\ncount = 1;\n",
		"local.d/worker-controller.inc": "bind_socket = \"127.0.0.1:" + controller + "\";\ncount = 1;\n",
		"local.d/worker-proxy.inc":      "bind_socket = \"127.0.0.1:" + proxy + "\";\ncount = 1;\n",
		// Nothing answers there: lookups fail at once, no network reached.
		"local.d/options.inc": "dns { nameserver = [\"127.0.0.1:" + dns + "\"]; timeout = 0.2s; retransmits = 1; }\n",
		"local.d/multimap.conf": "POSTDESK_TEST_SPAM {\n  type = \"header\";\n  header = \"Subject\";\n  regexp = true;\n" +
			"  map = \"" + filepath.Join(dir, "test-spam.map") + "\";\n  score = 8.0;\n}\n",
		"test-spam.map": "/" + RspamdTestSubject + "/\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-f", "-i", "-c", "/etc/rspamd/rspamd.conf", "--var", "LOCAL_CONFDIR="+dir,
		"--var", "RUNDIR="+filepath.Join(dir, "run"), "--var", "DBDIR="+filepath.Join(dir, "db"), "--var", "LOGDIR="+dir)
	if os.Geteuid() == 0 {
		cmd.Args = append(cmd.Args, "-u", "root", "-g", "root")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rspamd: %v", err)
	}
	t.Cleanup(func() {
		// rspamd's main process ends its workers on SIGTERM; the group
		// is ours alone (Setpgid).
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	url := "http://127.0.0.1:" + normal
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "rspamd.log"))
	t.Fatalf("rspamd did not start within 90s; its log:\n%s", log)
	return ""
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
