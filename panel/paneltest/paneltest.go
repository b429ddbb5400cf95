// Package paneltest is the panel's test harness: a panel on a real
// database with two tenants, a browser-like client that keeps cookies and
// the CSRF token, and the check that every route has a handler test. The
// panel's own tests use it, and so do the end-to-end tests (package e2e),
// which run the panel on mailsvc's parts; it lives apart from both so that
// panel's tests never import mailsvc. Only _test.go files import it.
package paneltest

import (
	"context"
	"encoding/json"
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
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Passwords of the fixture accounts.
const (
	PW      = "Xk9#mq2!pLw7z"
	AdminPW = "Adm1n!Bar#2026xq"
)

// routes records, for the whole test binary, every route (method and path
// pattern) of every panel the tests built and every route a test
// requested, so that Main can fail when a route has no handler test. It is
// package state because a test binary's TestMain reads what all its tests
// recorded.
var routes = struct {
	sync.Mutex
	hit   map[string]bool
	table map[string]*echo.Route
	// withDeps are the routes that exist only with a dependency in
	// panel.Deps (the queue, webmail, ...): a panel built from the tenants
	// alone has none of them.
	withDeps map[string]bool
}{hit: map[string]bool{}, table: map[string]*echo.Route{}, withDeps: map[string]bool{}}

// Coverage says which routes Main requires a test of.
type Coverage int

const (
	// EveryRoute: every route of every panel the tests built.
	EveryRoute Coverage = iota
	// DependencyRoutes: only the routes that exist only with a dependency,
	// for test packages that build the panel on other parts and leave the
	// rest to the panel's own tests.
	DependencyRoutes
)

// Main runs the tests, as TestMain does, and on a full run (no -run)
// fails when a route of which (see Coverage) was never requested.
func Main(m *testing.M, which Coverage) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var missing []string
		for k, r := range routes.table {
			if !IsMethod(r.Method) || strings.HasPrefix(r.Path, "/static") {
				continue
			}
			if which == DependencyRoutes && !routes.withDeps[k] {
				continue
			}
			if !routes.hit[k] {
				missing = append(missing, k)
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

// IsMethod reports whether m is a method the panel's routes serve (echo
// also lists its catch-all methods).
func IsMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Fx is a panel on a real database with two tenants: domain a.test (its
// postmaster pm@a.test, users ann and carl) and b.test (postmaster
// pm@b.test, user bob with an alias, forwards and a responder), an
// administrator "root", and API keys.
type Fx struct {
	T      *testing.T
	E      *echo.Echo
	S      *tenants.Service
	Sys    tenants.Scope
	AdmKey string // an administrator's API key
	AKey   string // a.test's API key
	BKey   string // b.test's API key
}

// NewFx builds the panel; deps add dependencies to its panel.Deps.
func NewFx(t *testing.T, db *database.DB, deps ...func(*panel.Deps)) *Fx {
	t.Helper()
	return NewFxAt(t, db, nil, deps...)
}

// NewFxAt is NewFx with tenants on a clock the test controls (nil: the
// real one), for codes that depend on the time (TOTP).
func NewFxAt(t *testing.T, db *database.DB, now func() time.Time, deps ...func(*panel.Deps)) *Fx {
	t.Helper()
	s := tenantstest.SealedService(t, db, now)
	d := panel.Deps{Tenants: s, Health: db.Ping}
	for _, f := range deps {
		f(&d)
	}
	e, err := panel.New(d)
	if err != nil {
		t.Fatal(err)
	}
	base := e
	if len(deps) > 0 {
		if base, err = panel.New(panel.Deps{Tenants: s, Health: db.Ping}); err != nil {
			t.Fatal(err)
		}
	}
	plain := map[string]bool{}
	for _, r := range base.Routes() {
		plain[r.Method+" "+r.Path] = true
	}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			routes.Lock()
			routes.hit[c.Request().Method+" "+c.Path()] = true
			routes.Unlock()
			return next(c)
		}
	})
	routes.Lock()
	for _, r := range e.Routes() {
		k := r.Method + " " + r.Path
		routes.table[k] = r
		if !plain[k] {
			routes.withDeps[k] = true
		}
	}
	routes.Unlock()
	f := &Fx{T: t, E: e, S: s, Sys: tenants.SystemScope("test")}
	ctx := context.Background()
	if _, err := s.CreateAdmin(ctx, f.Sys, "root", AdminPW); err != nil {
		t.Fatal(err)
	}
	for _, dn := range []address.Domain{"a.test", "b.test"} {
		if _, err := s.CreateDomain(ctx, f.Sys, dn, "domain "+dn.String()); err != nil {
			t.Fatal(err)
		}
	}
	f.Mailbox("pm@a.test", "Postmaster A", true)
	f.Mailbox("ann@a.test", "Ann Example", false)
	f.Mailbox("carl@a.test", "Carl Example", false)
	f.Mailbox("pm@b.test", "Postmaster B", true)
	f.Mailbox("bob@b.test", "Bob Secret-B", false)
	f.Mailbox("dora@b.test", "Dora Secret-B", false)
	Must(t, s.AddAlias(ctx, f.Sys, Addr("bobby@b.test"), Addr("bob@b.test")))
	Must(t, s.SetForwards(ctx, f.Sys, Addr("bob@b.test"), []address.Address{Addr("bob-fwd@elsewhere.test")}, true))
	Must(t, s.SetResponder(ctx, f.Sys, Addr("bob@b.test"), tenants.ResponderInput{Enabled: true, Subject: "Bob away", Body: "Secret-B text"}))
	Must(t, s.SetCatchrest(ctx, f.Sys, "b.test", "bob"))
	var err2 error
	f.AdmKey, _, err2 = s.CreateAPIKey(ctx, f.Sys, "", "admin")
	Must(t, err2)
	f.AKey, _, err2 = s.CreateAPIKey(ctx, f.Sys, "a.test", "a")
	Must(t, err2)
	f.BKey, _, err2 = s.CreateAPIKey(ctx, f.Sys, "b.test", "b")
	Must(t, err2)
	return f
}

// Must fails the test on an error.
func Must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Addr parses an address the test knows to be valid.
func Addr(s string) address.Address {
	a, err := address.ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

// Mailbox creates a mailbox with the fixture password.
func (f *Fx) Mailbox(a, name string, postmaster bool) *tenants.Mailbox {
	f.T.Helper()
	st := tenants.DefaultMailboxSettings()
	st.Postmaster = postmaster
	m, err := f.S.CreateMailbox(context.Background(), f.Sys, tenants.NewMailbox{Address: Addr(a), Password: PW, FullName: name, Settings: st})
	Must(f.T, err)
	return m
}

// Client is a browser: it keeps cookies and knows the CSRF token of the
// last page it read.
type Client struct {
	F       *Fx
	Cookies map[string]*http.Cookie
	CSRF    string
	Remote  string // the request's remote address
	Header  http.Header
}

// Client is a new browser without cookies.
func (f *Fx) Client() *Client {
	return &Client{F: f, Cookies: map[string]*http.Cookie{}, Remote: "192.0.2.10:5555", Header: http.Header{}}
}

// Do sends a request; body is url.Values (a form), a *MultipartBody, a
// string (JSON) or nil.
func (c *Client) Do(method, path string, body any) *httptest.ResponseRecorder {
	c.F.T.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case url.Values:
		r, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case *MultipartBody:
		r, ctype = strings.NewReader(b.buf.String()), b.ctype
	case string:
		r, ctype = strings.NewReader(b), "application/json"
	}
	req := httptest.NewRequest(method, path, r)
	req.RemoteAddr = c.Remote
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	for _, ck := range c.Cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.F.E.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.Cookies, ck.Name)
		} else {
			c.Cookies[ck.Name] = ck
		}
	}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		if doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String())); err == nil {
			if tok, ok := doc.Find(`input[name=csrf]`).First().Attr("value"); ok {
				c.CSRF = tok
			}
		}
	}
	return rec
}

// Get fetches a page and fails unless it answers want.
func (c *Client) Get(path string, want int) *goquery.Document {
	c.F.T.Helper()
	rec := c.Do(http.MethodGet, path, nil)
	if rec.Code != want {
		c.F.T.Fatalf("GET %s: %d, want %d\n%s", path, rec.Code, want, Snippet(rec.Body.String()))
	}
	return Doc(c.F.T, rec)
}

// Post submits a form with the client's CSRF token and fails unless it
// answers want.
func (c *Client) Post(path string, form url.Values, want int) *httptest.ResponseRecorder {
	c.F.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.CSRF)
	}
	rec := c.Do(http.MethodPost, path, form)
	if rec.Code != want {
		c.F.T.Fatalf("POST %s: %d, want %d\n%s", path, rec.Code, want, Snippet(rec.Body.String()))
	}
	return rec
}

// Login signs in through the form and fails unless it works.
func (c *Client) Login(name, password string) {
	c.F.T.Helper()
	c.Get("/login", http.StatusOK)
	rec := c.Post("/login", url.Values{"login": {name}, "password": {password}}, http.StatusSeeOther)
	if c.Cookies["postdesk_session"] == nil {
		c.F.T.Fatalf("no session cookie after login as %s: %v", name, rec.Header())
	}
	c.Get(rec.Header().Get("Location"), http.StatusSeeOther) // "/" sends on to the start page
}

// Follow follows a redirect and returns the page it leads to.
func (c *Client) Follow(rec *httptest.ResponseRecorder) *goquery.Document {
	c.F.T.Helper()
	return c.Get(rec.Header().Get("Location"), http.StatusOK)
}

// API sends a JSON request with a bearer key.
func (c *Client) API(method, path, key, body string) *httptest.ResponseRecorder {
	c.F.T.Helper()
	c.Header.Set("Authorization", "Bearer "+key)
	defer c.Header.Del("Authorization")
	var b any
	if body != "" {
		b = body
	}
	return c.Do(method, path, b)
}

// Doc parses an answer as HTML.
func Doc(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Text is the text of what sel finds, each text node apart, white space
// collapsed.
func Text(d *goquery.Document, sel string) string {
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

// Snippet is the start of a long answer, for failure messages.
func Snippet(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "..."
	}
	return s
}

// MultipartBody is a multipart form built by Upload.
type MultipartBody struct {
	buf   strings.Builder
	ctype string
}

// Upload builds a multipart form with one file.
func Upload(fields url.Values, file, content string) *MultipartBody {
	b := &MultipartBody{}
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

// PostUpload submits a file form with the client's CSRF token.
func (c *Client) PostUpload(path string, fields url.Values, content string, want int) *httptest.ResponseRecorder {
	c.F.T.Helper()
	if fields == nil {
		fields = url.Values{}
	}
	fields.Set("csrf", c.CSRF)
	rec := c.Do(http.MethodPost, path, Upload(fields, "file", content))
	if rec.Code != want {
		c.F.T.Fatalf("POST %s: %d, want %d\n%s", path, rec.Code, want, Snippet(rec.Body.String()))
	}
	return rec
}

// APIOperations fetches the API's description (/api/v1/openapi.json, no
// key needed) and returns the operations it documents and the API routes
// f's panel has, both as "METHOD /api/v1/path" in echo's pattern form.
func APIOperations(t *testing.T, f *Fx) (documented, routes map[string]bool) {
	t.Helper()
	rec := f.Client().Do(http.MethodGet, "/api/v1/openapi.json", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("openapi.json: %d", rec.Code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.OpenAPI == "" {
		t.Fatalf("openapi.json: %v", err)
	}
	documented = map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			path := "/api/v1" + strings.NewReplacer("{domain}", ":domain", "{local_part}", ":local", "{list}", ":list", "{member}", ":member", "{uid}", ":uid", "{name}", ":name").Replace(p)
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	routes = map[string]bool{}
	for _, r := range f.E.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && IsMethod(r.Method) && r.Path != "/api/v1/openapi.json" {
			routes[r.Method+" "+r.Path] = true
		}
	}
	return documented, routes
}
