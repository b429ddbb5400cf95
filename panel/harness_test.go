package panel_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Passwords of the fixture accounts.
const (
	pw      = "Xk9#mq2!pLw7z"
	adminPW = "Adm1n!Bar#2026xq"
)

// routesHit records every route (method and path pattern) any test
// requested, so that TestMain can fail when a route has no handler test;
// routeTable is every route of every panel the tests built (some routes,
// such as the queue's, exist only with their dependency).
var (
	routesHit  = map[string]bool{}
	routesMu   sync.Mutex
	routeTable = map[string]*echo.Route{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var missing []string
		for _, r := range routeTable {
			if !isMethod(r.Method) || strings.HasPrefix(r.Path, "/static") {
				continue
			}
			if !routesHit[r.Method+" "+r.Path] {
				missing = append(missing, r.Method+" "+r.Path)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "routes without a handler test:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func isMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// fx is a panel on a real database with two tenants: domain a.test (its
// postmaster pm@a.test, users ann and carl) and b.test (postmaster
// pm@b.test, user bob with an alias, forwards and a responder), an
// administrator "root", and API keys.
type fx struct {
	t      *testing.T
	e      *echo.Echo
	s      *tenants.Service
	sys    tenants.Scope
	admKey string
	aKey   string
	bKey   string
}

func newFx(t *testing.T, db *database.DB, deps ...func(*panel.Deps)) *fx {
	t.Helper()
	s := tenantstest.Service(db, nil)
	d := panel.Deps{Tenants: s, Health: db.Ping}
	for _, f := range deps {
		f(&d)
	}
	e, err := panel.New(d)
	if err != nil {
		t.Fatal(err)
	}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			routesMu.Lock()
			routesHit[c.Request().Method+" "+c.Path()] = true
			routesMu.Unlock()
			return next(c)
		}
	})
	routesMu.Lock()
	for _, r := range e.Routes() {
		routeTable[r.Method+" "+r.Path] = r
	}
	routesMu.Unlock()
	f := &fx{t: t, e: e, s: s, sys: tenants.SystemScope("test")}
	ctx := context.Background()
	if _, err := s.CreateAdmin(ctx, f.sys, "root", adminPW); err != nil {
		t.Fatal(err)
	}
	for _, dn := range []address.Domain{"a.test", "b.test"} {
		if _, err := s.CreateDomain(ctx, f.sys, dn, "domain "+dn.String()); err != nil {
			t.Fatal(err)
		}
	}
	f.mailbox("pm@a.test", "Postmaster A", true)
	f.mailbox("ann@a.test", "Ann Example", false)
	f.mailbox("carl@a.test", "Carl Example", false)
	f.mailbox("pm@b.test", "Postmaster B", true)
	f.mailbox("bob@b.test", "Bob Secret-B", false)
	f.mailbox("dora@b.test", "Dora Secret-B", false)
	must(t, s.AddAlias(ctx, f.sys, addr("bobby@b.test"), addr("bob@b.test")))
	must(t, s.SetForwards(ctx, f.sys, addr("bob@b.test"), []address.Address{addr("bob-fwd@elsewhere.test")}, true))
	must(t, s.SetResponder(ctx, f.sys, addr("bob@b.test"), tenants.ResponderInput{Enabled: true, Subject: "Bob away", Body: "Secret-B text"}))
	must(t, s.SetCatchrest(ctx, f.sys, "b.test", "bob"))
	var err2 error
	f.admKey, _, err2 = s.CreateAPIKey(ctx, f.sys, "", "admin")
	must(t, err2)
	f.aKey, _, err2 = s.CreateAPIKey(ctx, f.sys, "a.test", "a")
	must(t, err2)
	f.bKey, _, err2 = s.CreateAPIKey(ctx, f.sys, "b.test", "b")
	must(t, err2)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func addr(s string) address.Address {
	a, err := address.ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

func (f *fx) mailbox(a, name string, postmaster bool) *tenants.Mailbox {
	f.t.Helper()
	st := tenants.DefaultMailboxSettings()
	st.Postmaster = postmaster
	m, err := f.s.CreateMailbox(context.Background(), f.sys, tenants.NewMailbox{Address: addr(a), Password: pw, FullName: name, Settings: st})
	must(f.t, err)
	return m
}

// client is a browser: it keeps cookies and knows the CSRF token of the
// last page it read.
type client struct {
	f       *fx
	cookies map[string]*http.Cookie
	csrf    string
	remote  string
	header  http.Header
}

func (f *fx) client() *client {
	return &client{f: f, cookies: map[string]*http.Cookie{}, remote: "192.0.2.10:5555", header: http.Header{}}
}

// do sends a request; body is url.Values (a form), a *multipartBody, a
// string (JSON) or nil.
func (c *client) do(method, path string, body any) *httptest.ResponseRecorder {
	c.f.t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case url.Values:
		r, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case *multipartBody:
		r, ctype = strings.NewReader(b.buf.String()), b.ctype
	case string:
		r, ctype = strings.NewReader(b), "application/json"
	}
	req := httptest.NewRequest(method, path, r)
	req.RemoteAddr = c.remote
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
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
		if doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String())); err == nil {
			if tok, ok := doc.Find(`input[name=csrf]`).First().Attr("value"); ok {
				c.csrf = tok
			}
		}
	}
	return rec
}

// get fetches a page and fails unless it answers want.
func (c *client) get(path string, want int) *goquery.Document {
	c.f.t.Helper()
	rec := c.do(http.MethodGet, path, nil)
	if rec.Code != want {
		c.f.t.Fatalf("GET %s: %d, want %d\n%s", path, rec.Code, want, snippet(rec.Body.String()))
	}
	return doc(c.f.t, rec)
}

// post submits a form with the client's CSRF token and fails unless it
// answers want.
func (c *client) post(path string, form url.Values, want int) *httptest.ResponseRecorder {
	c.f.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	rec := c.do(http.MethodPost, path, form)
	if rec.Code != want {
		c.f.t.Fatalf("POST %s: %d, want %d\n%s", path, rec.Code, want, snippet(rec.Body.String()))
	}
	return rec
}

// login signs in through the form and fails unless it works.
func (c *client) login(name, password string) {
	c.f.t.Helper()
	c.get("/login", http.StatusOK)
	rec := c.post("/login", url.Values{"login": {name}, "password": {password}}, http.StatusSeeOther)
	if c.cookies["postdesk_session"] == nil {
		c.f.t.Fatalf("no session cookie after login as %s: %v", name, rec.Header())
	}
	c.get(rec.Header().Get("Location"), http.StatusSeeOther) // "/" sends on to the start page
}

// page follows a redirect and returns the page it leads to.
func (c *client) follow(rec *httptest.ResponseRecorder) *goquery.Document {
	c.f.t.Helper()
	return c.get(rec.Header().Get("Location"), http.StatusOK)
}

// api sends a JSON request with a bearer key.
func (c *client) api(method, path, key, body string) *httptest.ResponseRecorder {
	c.f.t.Helper()
	c.header.Set("Authorization", "Bearer "+key)
	defer c.header.Del("Authorization")
	var b any
	if body != "" {
		b = body
	}
	return c.do(method, path, b)
}

func doc(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// text is the text of what sel finds, each text node apart, white space
// collapsed.
func text(d *goquery.Document, sel string) string {
	var parts []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			parts = append(parts, n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	for _, n := range d.Find(sel).Nodes {
		walk(n)
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

func snippet(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "..."
	}
	return s
}

type multipartBody struct {
	buf   strings.Builder
	ctype string
}

// upload builds a multipart form with one file.
func upload(fields url.Values, file, content string) *multipartBody {
	b := &multipartBody{}
	w := multipart.NewWriter(&b.buf)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	fw, _ := w.CreateFormFile(file, "mailboxes.csv")
	io.WriteString(fw, content)
	w.Close()
	b.ctype = w.FormDataContentType()
	return b
}

// postUpload submits a file form with the client's CSRF token.
func (c *client) postUpload(path string, fields url.Values, content string, want int) *httptest.ResponseRecorder {
	c.f.t.Helper()
	if fields == nil {
		fields = url.Values{}
	}
	fields.Set("csrf", c.csrf)
	rec := c.do(http.MethodPost, path, upload(fields, "file", content))
	if rec.Code != want {
		c.f.t.Fatalf("POST %s: %d, want %d\n%s", path, rec.Code, want, snippet(rec.Body.String()))
	}
	return rec
}
