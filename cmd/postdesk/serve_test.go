package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// buildBinary builds postdesk once for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "postdesk")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeFirstRun starts the real binary on an empty data folder: it makes
// the first administrator (password on standard output only), a self-signed
// certificate, serves the sign-in page and /healthz, reloads its certificate
// on SIGHUP and stops cleanly on SIGTERM.
func TestServeFirstRun(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) {
			data := t.TempDir()
			httpAddr := freeAddr(t)
			env := []string{"POSTDESK_DATA=" + data, "POSTDESK_HTTP_ADDR=" + httpAddr, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
			for _, name := range []string{"SMTP", "SUBMISSION", "SUBMISSIONS", "IMAP", "IMAPS", "POP3", "POP3S"} {
				env = append(env, "POSTDESK_"+name+"_ADDR="+freeAddr(t))
			}
			if eng == database.Postgres {
				env = append(env, "POSTDESK_DATABASE_URL="+tenantstest.PostgresURL(t))
			}
			cmd := exec.Command(bin, "serve")
			cmd.Env = append(listenersOff(), env...)
			stdout, _ := cmd.StdoutPipe()
			var logs syncBuffer
			cmd.Stderr = &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// The password is printed once, on standard output.
			sc := bufio.NewScanner(stdout)
			var password string
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "First run") && sc.Scan() {
					password = sc.Text()
					break
				}
			}
			go io.Copy(io.Discard, stdout)
			if len(password) < 16 {
				t.Fatalf("no first-run password on stdout; log:\n%s", logs.String())
			}
			waitHTTP(t, "http://"+httpAddr+"/healthz")
			resp, err := http.Get("http://" + httpAddr + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), `type="password"`) {
				t.Fatalf("/ is not the sign-in page: %d %s", resp.StatusCode, body)
			}
			resp, err = http.Get("http://" + httpAddr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"database":"ok"`) {
				t.Fatalf("/healthz: %d %s", resp.StatusCode, body)
			}

			// SIGHUP reloads the certificate from its files.
			certFile := filepath.Join(data, "tls", "selfsigned.crt")
			before, err := os.ReadFile(certFile)
			if err != nil {
				t.Fatalf("no self-signed certificate: %v", err)
			}
			os.Remove(certFile)
			os.Remove(filepath.Join(data, "tls", "selfsigned.key"))
			if _, _, err := tlscert.Open("", "", data, "reloaded.test"); err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(certFile)
			if string(before) == string(after) {
				t.Fatal("certificate not replaced")
			}
			cmd.Process.Signal(syscall.SIGHUP)
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(logs.String(), "TLS certificate reloaded") {
				if time.Now().After(deadline) {
					t.Fatalf("no reload logged:\n%s", logs.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if strings.Contains(logs.String(), password) {
				t.Fatal("the first-run password reached the log")
			}
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve still running 30 s after SIGTERM")
			}
			if !strings.Contains(logs.String(), "stopped") {
				t.Fatalf("no clean stop logged:\n%s", logs.String())
			}
		})
	}
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}
