package main

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// countingBody is a request body of n bytes after an optional prefix; it
// counts how much of it the server read.
type countingBody struct {
	prefix io.Reader
	left   int64
	read   int64
}

func newCountingBody(prefix string, n int64) *countingBody {
	return &countingBody{prefix: strings.NewReader(prefix), left: n}
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.prefix.Read(p)
	if n > 0 || err != io.EOF {
		b.read += int64(n)
		return n, err
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	n = int(min(int64(len(p)), b.left))
	for i := range p[:n] {
		p[i] = 'a'
	}
	b.left -= int64(n)
	b.read += int64(n)
	return n, nil
}

const bodyBoundary = "postdesk-test-boundary"

// hugeMultipart is the start of a multipart form with the given fields
// whose one file goes on for n bytes, never ending.
func hugeMultipart(fields url.Values, n int64) *countingBody {
	var b strings.Builder
	for k, vs := range fields {
		for _, v := range vs {
			b.WriteString("--" + bodyBoundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n")
		}
	}
	b.WriteString("--" + bodyBoundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n")
	return newCountingBody(b.String(), n)
}

// send posts body as c's browser would (its cookies), and returns the
// answer.
func (c *wmClient) send(method, path string, body io.Reader, ctype string, header http.Header) *httptest.ResponseRecorder {
	c.f.t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = "192.0.2.20:4000"
	req.Header.Set("Content-Type", ctype)
	for k, vs := range header {
		req.Header[k] = vs
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.f.e.ServeHTTP(rec, req)
	return rec
}

// TestWebmailBodyLimits: no byte of a request body is read before the
// sender is known; the sign-in form gets a few KiB, a signed-in user an
// ordinary form, and only a mailbox with webmail a message's worth, on the
// compose route, its files spilling to disk and removed after the
// request. The API reads no more than its limit, and nothing before the
// key is checked.
func TestWebmailBodyLimits(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{maxSize: webmail.DefaultMaxMessageBytes})
		ctx := context.Background()
		const huge = 40 << 20
		mp := "multipart/form-data; boundary=" + bodyBoundary

		// Anonymous: refused unread, on every path, and the connection
		// closed rather than drained.
		anon := f.client()
		for _, path := range []string{"/webmail/compose", "/d/a.test/import", "/d/a.test/mailboxes", "/logout", "/settings/password", "/nosuch"} {
			for _, ctype := range []string{mp, "application/x-www-form-urlencoded"} {
				body := newCountingBody("csrf=x&", huge)
				if ctype == mp {
					body = hugeMultipart(url.Values{"csrf": {"x"}}, huge)
				}
				rec := anon.send(http.MethodPost, path, body, ctype, nil)
				if rec.Code != http.StatusForbidden || body.read != 0 {
					t.Errorf("anonymous POST %s (%s): %d, read %d bytes; want 403 and none read", path, ctype, rec.Code, body.read)
				}
				if rec.Header().Get("Connection") != "close" {
					t.Errorf("anonymous POST %s: connection kept open to drain the body", path)
				}
			}
		}
		// Cross-site, even with a session: refused unread.
		ann := f.client()
		ann.login("ann@a.test")
		body := hugeMultipart(url.Values{"csrf": {ann.csrf}}, huge)
		if rec := ann.send(http.MethodPost, "/webmail/compose", body, mp, http.Header{"Sec-Fetch-Site": {"cross-site"}}); rec.Code != http.StatusForbidden || body.read != 0 {
			t.Errorf("cross-site compose: %d, read %d", rec.Code, body.read)
		}

		// The sign-in form: without its cookie refused unread; with it,
		// a few KiB at most.
		if body := newCountingBody("", huge); anon.send(http.MethodPost, "/login", body, "application/x-www-form-urlencoded", nil).Code != http.StatusForbidden || body.read != 0 {
			t.Errorf("sign-in without the form's cookie read %d bytes", body.read)
		}
		anon.get("/login", http.StatusOK)
		body = newCountingBody("csrf="+anon.csrf+"&login=", huge)
		rec := anon.send(http.MethodPost, "/login", body, "application/x-www-form-urlencoded", nil)
		if rec.Code != http.StatusRequestEntityTooLarge || body.read > 8<<10+1 {
			t.Errorf("oversized sign-in: %d after reading %d bytes, want 413 after at most 8 KiB", rec.Code, body.read)
		}

		// Signed in: an ordinary form, anywhere but compose.
		for _, ctype := range []string{mp, "application/x-www-form-urlencoded"} {
			body := hugeMultipart(url.Values{"csrf": {ann.csrf}}, huge)
			rec := ann.send(http.MethodPost, "/webmail/folders", body, ctype, nil)
			if rec.Code != http.StatusRequestEntityTooLarge || body.read > 1<<20+1 {
				t.Errorf("signed-in POST /webmail/folders (%s): %d after reading %d bytes, want 413 after at most 1 MiB", ctype, rec.Code, body.read)
			}
		}
		// A postmaster without webmail gets no upload allowance on the
		// compose route.
		st := tenants.DefaultMailboxSettings()
		st.Postmaster, st.Webmail = true, false
		_, err := f.ten.CreateMailbox(ctx, f.sys, tenants.NewMailbox{Address: wmAddr("pm2@a.test"), Password: wmPW, Settings: st})
		wmMust(t, err)
		pm2 := f.client()
		pm2.login("pm2@a.test")
		pm2.get("/d/a.test", http.StatusOK)
		body = hugeMultipart(url.Values{"csrf": {pm2.csrf}, "action": {"save"}}, huge)
		rec = pm2.send(http.MethodPost, "/webmail/compose", body, mp, nil)
		if rec.Code != http.StatusRequestEntityTooLarge || body.read > 1<<20+1 {
			t.Errorf("compose without webmail: %d after reading %d bytes, want 413 after at most 1 MiB", rec.Code, body.read)
		}
		// A webmail user: up to the message limit, not past it.
		ann.get("/webmail/compose", http.StatusOK)
		body = hugeMultipart(url.Values{"csrf": {ann.csrf}, "action": {"save"}}, 60<<20)
		rec = ann.send(http.MethodPost, "/webmail/compose", body, mp, nil)
		if limit := int64(webmail.UploadLimit(webmail.DefaultMaxMessageBytes)); rec.Code != http.StatusRequestEntityTooLarge || body.read > limit+1 {
			t.Errorf("compose over the limit: %d after reading %d bytes, want 413 after at most %d", rec.Code, body.read, limit)
		}

		// An attachment past the memory allowance goes to a temporary
		// file while the form is read, and the file is gone after.
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		spilled := false
		attachment := strings.Repeat("0123456789abcdef", 3<<20/16)
		var form strings.Builder
		w := multipart.NewWriter(&form)
		for k, v := range map[string]string{"csrf": ann.csrf, "action": "save", "from": "ann@a.test", "subject": "big draft", "body": "see attached"} {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("files", "big.bin")
		io.WriteString(fw, attachment)
		w.Close()
		spy := &spyReader{r: strings.NewReader(form.String()), after: 2 << 20, check: func() bool {
			spilled = spilled || len(multipartFiles(t, tmp)) > 0
			return spilled
		}}
		rec = ann.send(http.MethodPost, "/webmail/compose", spy, w.FormDataContentType(), nil)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("draft with a 3 MiB attachment: %d\n%s", rec.Code, wmSnippet(rec.Body.String()))
		}
		if !spilled {
			t.Error("a 3 MiB attachment was kept in memory: no temporary file while the form was read")
		}
		if left := multipartFiles(t, tmp); len(left) > 0 {
			t.Errorf("temporary files left after the request: %v", left)
		}
		if ms := f.messages("ann@a.test", "Drafts"); len(ms) != 1 || !strings.Contains(f.body(ms[0]), "big.bin") {
			t.Errorf("draft not saved with its attachment: %d drafts", len(ms))
		}

		// The API: nothing read before the key is checked, then at most
		// its limit.
		key, _, err := f.ten.CreateAPIKey(ctx, f.sys, "", "test")
		wmMust(t, err)
		body = newCountingBody(`{"name":"`, huge)
		if rec := anon.send(http.MethodPost, "/api/v1/domains", body, "application/json", nil); rec.Code != http.StatusUnauthorized || body.read != 0 {
			t.Errorf("API without a key: %d after reading %d bytes", rec.Code, body.read)
		}
		body = newCountingBody(`{"name":"`, huge)
		if rec := anon.send(http.MethodPost, "/api/v1/domains", body, "application/json", http.Header{"Authorization": {"Bearer wrong"}}); rec.Code != http.StatusUnauthorized || body.read != 0 {
			t.Errorf("API with a wrong key: %d after reading %d bytes", rec.Code, body.read)
		}
		body = newCountingBody(`{"name":"`, huge)
		if rec := anon.send(http.MethodPost, "/api/v1/domains", body, "application/json", http.Header{"Authorization": {"Bearer " + key}}); rec.Code != http.StatusRequestEntityTooLarge || body.read > 256<<10+1 {
			t.Errorf("API over its limit: %d after reading %d bytes", rec.Code, body.read)
		}
	})
}

// spyReader reads r and, once more than after bytes were read, calls check
// on every read until it returns true.
type spyReader struct {
	r     io.Reader
	after int64
	n     int64
	done  bool
	check func() bool
}

func (s *spyReader) Read(p []byte) (int, error) {
	if s.n > s.after && !s.done {
		s.done = s.check()
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	return n, err
}

// multipartFiles lists the temporary files of multipart forms in dir.
func multipartFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	wmMust(t, err)
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "multipart-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestHTTPServerTimeouts: the panel's server bounds how long a request
// may take to arrive (long enough for the largest upload at the slowest
// rate the panel waits for, no longer) and to be answered.
func TestHTTPServerTimeouts(t *testing.T) {
	for _, maxSize := range []int64{1 << 20, webmail.DefaultMaxMessageBytes, 200 << 20} {
		deps := panel.Deps{Webmail: &webmail.Config{MaxMessageBytes: maxSize}}
		srv := httpServer(http.NotFoundHandler(), deps)
		largest := max(webmail.UploadLimit(maxSize), tenants.MaxImportBytes) // a message or a CSV import
		need := time.Duration(largest/panel.MinUploadRate) * time.Second
		if srv.ReadTimeout < need || srv.ReadTimeout > need+time.Minute {
			t.Errorf("max message %d: ReadTimeout %v, want the upload of %d bytes at %d B/s (%v) and a little", maxSize, srv.ReadTimeout, largest, panel.MinUploadRate, need)
		}
		if srv.WriteTimeout < srv.ReadTimeout+need || srv.WriteTimeout > 2*srv.ReadTimeout {
			t.Errorf("max message %d: WriteTimeout %v, read %v", maxSize, srv.WriteTimeout, srv.ReadTimeout)
		}
		if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 30*time.Second || srv.IdleTimeout <= 0 {
			t.Errorf("header timeout %v, idle timeout %v", srv.ReadHeaderTimeout, srv.IdleTimeout)
		}
	}
	// Without webmail the largest body is a CSV import.
	srv := httpServer(http.NotFoundHandler(), panel.Deps{})
	if need := time.Duration((tenants.MaxImportBytes)/panel.MinUploadRate) * time.Second; srv.ReadTimeout < need || srv.ReadTimeout > need+2*time.Minute {
		t.Errorf("without webmail: ReadTimeout %v, want about %v", srv.ReadTimeout, need)
	}
}
