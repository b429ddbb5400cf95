// Package carddav serves the address books of tenants over CardDAV (RFC
// 6352) on the panel's listener, through go-webdav's carddav server (our
// patched copy in third_party/go-webdav adds sync-collection, RFC 6578).
//
// Layout, every path under Prefix and named by the signed-in user's own
// address, so that no URL is shared between users:
//
//	/dav/                              the context path (/.well-known/carddav)
//	/dav/USER@DOMAIN/                  the principal (RFC 5397)
//	/dav/USER@DOMAIN/books/            the one addressbook-home-set
//	/dav/USER@DOMAIN/books/SLUG/       a book: own, shared, "gab", "directory"
//	/dav/USER@DOMAIN/books/SLUG/HREF   a contact
//
// Clients are not browsers: these routes sit outside the panel's session
// and CSRF checks and sign in with HTTP Basic on every request, through
// tenants.ResolveLogin (its throttle included). Anything under another
// user's principal is 404, whoever asks.
package carddav

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
)

// Prefix is where the DAV service lives on the panel's listener.
const Prefix = "/dav"

// Limits of one request.
const (
	// maxPutBody bounds a PUT: one vCard (tenants.MaxVCardBytes) in the
	// longer form a client may send (3.0 line folding).
	maxPutBody = 2 * tenants.MaxVCardBytes
	// maxXMLBody bounds a PROPFIND or REPORT body.
	maxXMLBody = 1 << 20
)

var davMethods = []string{http.MethodOptions, http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete,
	"PROPFIND", "PROPPATCH", "REPORT", "MKCOL", "COPY", "MOVE"}

// Routes adds the CardDAV service and its discovery to e, outside any
// session or CSRF middleware.
func Routes(e *echo.Echo, t *tenants.Service, log *slog.Logger) {
	s := &server{tenants: t, log: log}
	e.Match(davMethods, Prefix, s.serve)
	e.Match(davMethods, Prefix+"/*", s.serve)
	// A client given only the server's address asks its root (RFC 6764
	// 6, step 4 of the discovery vdirsyncer and others do).
	e.Match([]string{"PROPFIND"}, "/", s.serve)
	// RFC 6764 5: the well-known URI redirects to the context path; 308
	// keeps PROPFIND a PROPFIND (a 303 would turn it into GET).
	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodOptions, "PROPFIND"}, "/.well-known/carddav", func(c echo.Context) error {
		return c.Redirect(http.StatusPermanentRedirect, Prefix+"/")
	})
}

type server struct {
	tenants *tenants.Service
	log     *slog.Logger
}

type ifMatchKey struct{}

// requestIfMatch is the ETag of the request's If-Match ("*" as such).
func requestIfMatch(ctx context.Context) string {
	v, _ := ctx.Value(ifMatchKey{}).(string)
	m := webdav.ConditionalMatch(v)
	if !m.IsSet() || m.IsWildcard() {
		return string(m)
	}
	e, err := m.ETag()
	if err != nil {
		return v // matches no ETag of ours: the condition fails
	}
	return e
}

func (s *server) serve(c echo.Context) error {
	r, w := c.Request(), c.Response()
	name, pw, ok := r.BasicAuth()
	if !ok {
		return challenge(w, "")
	}
	l, err := s.tenants.ResolveLogin(r.Context(), tenants.CardDAVLogin, name, pw, request.ClientOf(c).Addr)
	if err != nil {
		var le *tenants.LoginError
		if errors.As(err, &le) {
			s.log.Info("carddav login refused", "name", name, "reason", le.Error(), "remote", request.ClientOf(c).Addr)
			return challenge(w, le.Error())
		}
		s.log.Error("carddav login", "err", err)
		return writeStatus(w, http.StatusInternalServerError, "login failed")
	}
	p := path.Clean("/" + r.URL.Path)
	own := Prefix + "/" + l.Address.String()
	if p != "/" && p != Prefix && p != own && !strings.HasPrefix(p, own+"/") {
		// Another user's URL (or none): the same 404 either way.
		return writeStatus(w, http.StatusNotFound, "not found")
	}
	switch r.Method {
	case http.MethodPut:
		r.Body = http.MaxBytesReader(w, r.Body, maxPutBody)
	default:
		r.Body = http.MaxBytesReader(w, r.Body, maxXMLBody)
	}
	// go-webdav hands DELETE no headers; its If-Match rides in ctx.
	ctx := context.WithValue(r.Context(), ifMatchKey{}, r.Header.Get("If-Match"))
	h := carddav.Handler{Backend: &backend{tenants: s.tenants, log: s.log, login: l, own: own}, Prefix: Prefix}
	h.ServeHTTP(w, r.WithContext(ctx))
	return nil
}

func challenge(w http.ResponseWriter, why string) error {
	w.Header().Set("WWW-Authenticate", `Basic realm="Postdesk", charset="UTF-8"`)
	if why == "" {
		why = "sign in with your address and password"
	}
	return writeStatus(w, http.StatusUnauthorized, why)
}

func writeStatus(w http.ResponseWriter, code int, msg string) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, err := fmt.Fprintln(w, msg)
	return err
}

// backend is go-webdav's view of one signed-in user's books.
type backend struct {
	tenants *tenants.Service
	log     *slog.Logger
	login   *tenants.Login
	own     string // the principal's path, no trailing slash
}

var (
	_ carddav.Backend     = (*backend)(nil)
	_ carddav.SyncBackend = (*backend)(nil)
)

func (b *backend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	return b.own + "/", nil
}

func (b *backend) AddressBookHomeSetPath(ctx context.Context) (string, error) {
	return b.own + "/books/", nil
}

// split takes a request path apart into a book's slug and a contact's
// href (empty when the path names the book); ok is false for a path that
// is not under the user's home set.
func (b *backend) split(p string) (slug, href string, ok bool) {
	rest, found := strings.CutPrefix(path.Clean(p), b.own+"/books/")
	if !found || rest == "" {
		return "", "", false
	}
	slug, href, _ = strings.Cut(rest, "/")
	if strings.Contains(href, "/") {
		return "", "", false
	}
	return slug, href, true
}

func (b *backend) bookPath(slug string) string { return b.own + "/books/" + slug + "/" }

func (b *backend) book(cb tenants.ContactBook) carddav.AddressBook {
	return carddav.AddressBook{Path: b.bookPath(cb.Slug), Name: cb.Name, MaxResourceSize: tenants.MaxVCardBytes,
		Description: string(cb.Kind)}
}

func (b *backend) ListAddressBooks(ctx context.Context) ([]carddav.AddressBook, error) {
	books, err := b.tenants.ContactBooks(ctx, b.login)
	if err != nil {
		return nil, b.fail(err)
	}
	out := make([]carddav.AddressBook, len(books))
	for i, cb := range books {
		out[i] = b.book(cb)
	}
	return out, nil
}

func (b *backend) GetAddressBook(ctx context.Context, p string) (*carddav.AddressBook, error) {
	slug, href, ok := b.split(p)
	if !ok || href != "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("no such address book"))
	}
	cb, err := b.tenants.ContactBook(ctx, b.login, slug)
	if err != nil {
		return nil, b.fail(err)
	}
	ab := b.book(*cb)
	return &ab, nil
}

func (b *backend) CreateAddressBook(ctx context.Context, ab *carddav.AddressBook) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("address books are made in webmail"))
}

func (b *backend) DeleteAddressBook(ctx context.Context, p string) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("address books are deleted in webmail"))
}

func (b *backend) object(slug string, c *tenants.Contact, withCard bool) (*carddav.AddressObject, error) {
	ao := &carddav.AddressObject{Path: b.bookPath(slug) + url.PathEscape(c.Href), ModTime: c.UpdatedAt,
		ContentLength: int64(len(c.VCard)), ETag: c.ETag}
	if withCard {
		card, err := vcard.NewDecoder(strings.NewReader(c.VCard)).Decode()
		if err != nil {
			return nil, fmt.Errorf("decode stored vCard %s: %w", c.Href, err)
		}
		// Exported as 4.0 (issue 14), whatever version came in.
		vcard.ToV4(card)
		ao.Card = card
	}
	return ao, nil
}

func (b *backend) GetAddressObject(ctx context.Context, p string, req *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	slug, href, ok := b.split(p)
	if !ok || href == "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("no such contact"))
	}
	href, err := url.PathUnescape(href)
	if err != nil {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("no such contact"))
	}
	c, err := b.tenants.GetContact(ctx, b.login, slug, href)
	if err != nil {
		return nil, b.fail(err)
	}
	ao, err := b.object(slug, c, true)
	if err != nil {
		return nil, b.fail(err)
	}
	return ao, nil
}

func (b *backend) ListAddressObjects(ctx context.Context, p string, req *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	slug, href, ok := b.split(p)
	if !ok || href != "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("no such address book"))
	}
	cs, err := b.tenants.ListContacts(ctx, b.login, slug)
	if err != nil {
		return nil, b.fail(err)
	}
	out := make([]carddav.AddressObject, 0, len(cs))
	for i := range cs {
		ao, err := b.object(slug, &cs[i], true)
		if err != nil {
			return nil, b.fail(err)
		}
		out = append(out, *ao)
	}
	return out, nil
}

func (b *backend) QueryAddressObjects(ctx context.Context, p string, query *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	all, err := b.ListAddressObjects(ctx, p, &query.DataRequest)
	if err != nil {
		return nil, err
	}
	if len(query.PropFilters) == 0 {
		// RFC 6352 10.5: an empty filter matches every object
		// (go-webdav's Filter matches none).
		if query.Limit > 0 && query.Limit < len(all) {
			all = all[:query.Limit]
		}
		return all, nil
	}
	return carddav.Filter(query, all)
}

func (b *backend) PutAddressObject(ctx context.Context, p string, card vcard.Card, opts *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	slug, href, ok := b.split(p)
	if !ok || href == "" {
		return nil, webdav.NewHTTPError(http.StatusForbidden, errors.New("contacts are stored inside an address book"))
	}
	href, err := url.PathUnescape(href)
	if err != nil {
		return nil, webdav.NewHTTPError(http.StatusBadRequest, errors.New("bad contact name"))
	}
	var cond tenants.PutCondition
	if opts != nil {
		cond.IfNoneMatch = opts.IfNoneMatch.IsWildcard()
		if opts.IfMatch.IsSet() {
			if opts.IfMatch.IsWildcard() {
				cond.IfMatch = "*"
			} else if cond.IfMatch, err = opts.IfMatch.ETag(); err != nil {
				return nil, webdav.NewHTTPError(http.StatusBadRequest, errors.New("bad If-Match"))
			}
		}
	}
	c, _, err := b.tenants.PutContact(ctx, b.login, slug, href, card, cond)
	if err != nil {
		return nil, b.fail(err)
	}
	return b.object(slug, c, false)
}

func (b *backend) DeleteAddressObject(ctx context.Context, p string) error {
	slug, href, ok := b.split(p)
	if !ok || href == "" {
		return webdav.NewHTTPError(http.StatusForbidden, errors.New("address books are deleted in webmail"))
	}
	href, err := url.PathUnescape(href)
	if err != nil {
		return webdav.NewHTTPError(http.StatusNotFound, errors.New("no such contact"))
	}
	return b.fail(b.tenants.DeleteContact(ctx, b.login, slug, href, requestIfMatch(ctx)))
}

func (b *backend) SyncAddressBook(ctx context.Context, p string, q *carddav.SyncQuery) (*carddav.SyncResponse, error) {
	slug, href, ok := b.split(p)
	if !ok || href != "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("no such address book"))
	}
	ch, err := b.tenants.SyncContacts(ctx, b.login, slug, q.SyncToken, q.Limit)
	if err != nil {
		return nil, b.fail(err)
	}
	res := &carddav.SyncResponse{SyncToken: ch.Token, Truncated: ch.Truncated}
	for i := range ch.Updated {
		ao, err := b.object(slug, &ch.Updated[i], true)
		if err != nil {
			return nil, b.fail(err)
		}
		res.Updated = append(res.Updated, *ao)
	}
	for _, h := range ch.Deleted {
		res.Deleted = append(res.Deleted, b.bookPath(slug)+url.PathEscape(h))
	}
	return res, nil
}

// fail maps a tenants error onto an HTTP status; the text of an internal
// error stays in the log.
func (b *backend) fail(err error) error {
	var ve *tenants.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tenants.ErrNotFound):
		return webdav.NewHTTPError(http.StatusNotFound, errors.New("not found"))
	case errors.Is(err, tenants.ErrForbidden):
		return webdav.NewHTTPError(http.StatusForbidden, errors.New("this address book is read-only to you"))
	case errors.Is(err, tenants.ErrPrecondition):
		return webdav.NewHTTPError(http.StatusPreconditionFailed, err)
	case errors.Is(err, tenants.ErrSyncToken):
		return carddav.NewSyncTokenError()
	case errors.Is(err, tenants.ErrUIDConflict):
		return carddav.NewPreconditionError(carddav.PreconditionNoUIDConflict)
	case errors.As(err, &ve):
		return webdav.NewHTTPError(http.StatusBadRequest, ve)
	}
	b.log.Error("carddav", "user", b.login.Address.String(), "err", err)
	return webdav.NewHTTPError(http.StatusInternalServerError, errors.New("internal error"))
}
