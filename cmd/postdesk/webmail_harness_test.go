package main

import (
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// The webmail tests run the real panel (echo app, sessions, CSRF) with
// webmail wired to the real message store on each database engine, as
// serve wires it.

const wmPW = "Xk9#mq2!pLw7z"

// wmFx is a panel with webmail on a real database: domain a.test (ann,
// carl, the postmaster pm, and nomail without webmail) and b.test (bob,
// with the alias bobby).
type wmFx struct {
	t     testing.TB
	db    *database.DB
	ten   *tenants.Service
	st    *store.Store
	mail  *webmailMail
	e     *echo.Echo
	sys   tenants.Scope
	boxes map[string]*tenants.Mailbox

	hitsMu sync.Mutex
	hits   map[string]bool
}

type wmOptions struct {
	maxSize int64
	submit  func(f *wmFx) submitter
	// config, when set, changes webmail's configuration as serve makes it.
	config func(f *wmFx, cfg *webmail.Config)
}

func newWMFx(t testing.TB, db *database.DB, o wmOptions) *wmFx {
	t.Helper()
	ctx := context.Background()
	f := &wmFx{t: t, db: db, ten: tenantstest.Service(db, nil), sys: tenants.SystemScope("test"), boxes: map[string]*tenants.Mailbox{}, hits: map[string]bool{}}
	bs, err := blob.NewFiles(t.TempDir())
	wmMust(t, err)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f.st = store.New(db, bs, store.Options{Logger: log})
	if o.maxSize == 0 {
		o.maxSize = 1 << 20
	}
	f.mail = &webmailMail{store: f.st, maxSize: o.maxSize, log: log, now: time.Now}
	for _, d := range []address.Domain{"a.test", "b.test"} {
		_, err := f.ten.CreateDomain(ctx, f.sys, d, "")
		wmMust(t, err)
	}
	for _, m := range []struct {
		addr, name  string
		pm, webmail bool
	}{
		{"ann@a.test", "Ann Example", false, true}, {"carl@a.test", "Carl Example", false, true},
		{"pm@a.test", "Postmaster A", true, true}, {"nomail@a.test", "No Webmail", false, false},
		{"bob@b.test", "Bob B", false, true},
	} {
		st := tenants.DefaultMailboxSettings()
		st.Postmaster, st.Webmail = m.pm, m.webmail
		mb, err := f.ten.CreateMailbox(ctx, f.sys, tenants.NewMailbox{Address: wmAddr(m.addr), Password: wmPW, FullName: m.name, Settings: st})
		wmMust(t, err)
		f.boxes[m.addr] = mb
	}
	wmMust(t, f.ten.AddAlias(ctx, f.sys, wmAddr("bobby@b.test"), wmAddr("bob@b.test")))
	if o.submit != nil {
		f.mail.submit = o.submit(f)
	}
	cfg := webmailConfig(f.mail)
	if o.config != nil {
		o.config(f, cfg)
	}
	e, err := panel.New(panel.Deps{Tenants: f.ten, Logger: log, Health: db.Ping, Webmail: cfg})
	wmMust(t, err)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			f.hitsMu.Lock()
			f.hits[c.Request().Method+" "+c.Path()] = true
			f.hitsMu.Unlock()
			return next(c)
		}
	})
	f.e = e
	return f
}

// unhitRoutes lists the webmail routes no request of this fixture reached.
func (f *wmFx) unhitRoutes() []string {
	f.hitsMu.Lock()
	defer f.hitsMu.Unlock()
	var out []string
	for _, r := range f.e.Routes() {
		if strings.HasPrefix(r.Path, "/webmail") && !strings.HasPrefix(r.Method, "echo_") && !f.hits[r.Method+" "+r.Path] {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	sort.Strings(out)
	return out
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func wmMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wmAddr(s string) address.Address {
	a, err := address.ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

// deliver stores a message in a mailbox's folder as SMTP delivery would.
func (f *wmFx) deliver(to, folder, msg string, flags ...string) uint32 {
	f.t.Helper()
	ctx := context.Background()
	p, err := f.st.Blobs().Create(ctx)
	wmMust(f.t, err)
	io.WriteString(p, msg)
	res, err := f.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: f.boxes[to].ID, Folder: folder, Flags: flags}}})
	wmMust(f.t, err)
	wmMust(f.t, res.Errs[0])
	return res.UIDs[0]
}

// folder returns a mailbox's folder by name.
func (f *wmFx) folder(owner, name string) *store.Folder {
	f.t.Helper()
	ctx := context.Background()
	wmMust(f.t, f.st.EnsureFolders(ctx, f.boxes[owner].ID))
	fo, err := f.st.Folder(ctx, f.boxes[owner].ID, name)
	wmMust(f.t, err)
	return fo
}

// messages lists a folder's rows.
func (f *wmFx) messages(owner, name string) []store.Message {
	f.t.Helper()
	ms, err := f.st.Messages(context.Background(), f.folder(owner, name).ID, nil)
	wmMust(f.t, err)
	return ms
}

// body reads a stored message.
func (f *wmFx) body(m store.Message) string {
	f.t.Helper()
	r, err := f.st.Open(context.Background(), &m)
	wmMust(f.t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	wmMust(f.t, err)
	return string(b)
}

// wmClient is a browser: cookies, and the CSRF token of the last page.
type wmClient struct {
	f       *wmFx
	cookies map[string]*http.Cookie
	csrf    string
}

func (f *wmFx) client() *wmClient { return &wmClient{f: f, cookies: map[string]*http.Cookie{}} }

func (c *wmClient) do(method, path string, body io.Reader, ctype string) *httptest.ResponseRecorder {
	c.f.t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = "192.0.2.20:4000"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.f.e.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		if d, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String())); err == nil {
			if tok, ok := d.Find(`input[name=csrf]`).First().Attr("value"); ok {
				c.csrf = tok
			}
		}
	}
	return rec
}

// get fetches a page and fails unless it answers want.
func (c *wmClient) get(path string, want int) (*goquery.Document, *httptest.ResponseRecorder) {
	c.f.t.Helper()
	rec := c.do(http.MethodGet, path, nil, "")
	if rec.Code != want {
		c.f.t.Fatalf("GET %s: %d, want %d\n%s", path, rec.Code, want, wmSnippet(rec.Body.String()))
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	wmMust(c.f.t, err)
	return d, rec
}

// post submits a form with the CSRF token and fails unless it answers
// want.
func (c *wmClient) post(path string, form url.Values, want int) *httptest.ResponseRecorder {
	c.f.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	rec := c.do(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if rec.Code != want {
		c.f.t.Fatalf("POST %s: %d, want %d\n%s", path, rec.Code, want, wmSnippet(rec.Body.String()))
	}
	return rec
}

// upload is one file of a multipart form.
type upload struct{ name, content string }

// postMultipart submits a multipart form (the compose form) with files.
func (c *wmClient) postMultipart(path string, form url.Values, files []upload, want int) *httptest.ResponseRecorder {
	c.f.t.Helper()
	var b strings.Builder
	w := multipart.NewWriter(&b)
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if len(files) == 0 {
		fw, _ := w.CreateFormFile("files", "")
		fw.Write(nil)
	}
	for _, u := range files {
		fw, _ := w.CreateFormFile("files", u.name)
		io.WriteString(fw, u.content)
	}
	w.Close()
	rec := c.do(http.MethodPost, path, strings.NewReader(b.String()), w.FormDataContentType())
	if rec.Code != want {
		c.f.t.Fatalf("POST %s: %d, want %d\n%s", path, rec.Code, want, wmSnippet(rec.Body.String()))
	}
	return rec
}

// login signs in through the form; it returns where the sign-in led.
func (c *wmClient) login(name string) string {
	c.f.t.Helper()
	c.get("/login?next=/", http.StatusOK)
	rec := c.post("/login", url.Values{"login": {name}, "password": {wmPW}, "next": {"/"}}, http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	for i := 0; i < 5 && loc != ""; i++ {
		r := c.do(http.MethodGet, loc, nil, "")
		if r.Code != http.StatusSeeOther {
			return loc
		}
		loc = r.Header().Get("Location")
	}
	return loc
}

func wmSnippet(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// text is the white-space-collapsed text of what sel finds.
func wmText(d *goquery.Document, sel string) string {
	return strings.Join(strings.Fields(d.Find(sel).Text()), " ")
}
