package panel_test

import (
	"bufio"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAnonymousUploadRefusedOverTheWire: a client that announces a 40 MiB
// body to a form without a session gets 403 at once, before it has sent
// any of it, and the server closes the connection instead of waiting for
// the body.
func TestAnonymousUploadRefusedOverTheWire(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		srv := httptest.NewServer(f.E)
		defer srv.Close()
		for _, path := range []string{"/d/a.test/import", "/d/a.test/mailboxes", "/login"} {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			paneltest.Must(t, err)
			defer conn.Close() // before srv.Close, which waits for the handler
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = io.WriteString(conn, "POST "+path+" HTTP/1.1\r\nHost: panel.test\r\n"+
				"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 41943040\r\n\r\n--x\r\n")
			paneltest.Must(t, err)
			r := bufio.NewReader(conn)
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Errorf("POST %s: no answer before the body was sent: %v", path, err)
				continue
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s: %d, want 403", path, resp.StatusCode)
			}
			io.Copy(io.Discard, resp.Body)
			if _, err := r.ReadByte(); err != io.EOF {
				t.Errorf("POST %s: connection left open after the refusal: %v", path, err)
			}
		}
	})
}

// TestImportUploadSpillsToDisk: a CSV upload past the memory allowance is
// read into a temporary file, removed after the request.
func TestImportUploadSpillsToDisk(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		c.Get("/d/a.test/import", http.StatusOK)

		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		var form strings.Builder
		w := multipart.NewWriter(&form)
		w.WriteField("csrf", c.CSRF)
		fw, _ := w.CreateFormFile("file", "mailboxes.csv")
		io.WriteString(fw, "username,password,description\n")
		for i := 0; form.Len() < 3<<20; i++ {
			io.WriteString(fw, "user,Qz7!vr0001Kp#w,"+strings.Repeat("long description ", 60)+"\n")
		}
		w.Close()
		spilled := false
		body := &spyReader{r: strings.NewReader(form.String()), after: 2 << 20, check: func() bool {
			spilled = spilled || len(multipartFiles(t, tmp)) > 0
			return spilled
		}}
		req := httptest.NewRequest(http.MethodPost, "/d/a.test/import", body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		for _, ck := range c.Cookies {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		f.E.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "import-preview") && !strings.Contains(rec.Body.String(), "field-error") {
			t.Errorf("3 MiB import: %d\n%s", rec.Code, paneltest.Snippet(rec.Body.String()))
		}
		if !spilled {
			t.Error("a 3 MiB upload was kept in memory: no temporary file while the form was read")
		}
		if left := multipartFiles(t, tmp); len(left) > 0 {
			t.Errorf("temporary files left after the request: %v", left)
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
	paneltest.Must(t, err)
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "multipart-") {
			out = append(out, e.Name())
		}
	}
	return out
}
