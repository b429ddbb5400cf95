// Package request holds what every panel area's handlers share about a
// request: the dependencies (Env) and the small interfaces of the mail
// features the panel uses, the signed-in identity and its Scope in the
// request context, the one Render helper, the page frame, route
// parameters, reading the shared forms, and the translation of tenants
// errors into form messages and HTTP statuses. The pages both the
// administrator's and the postmaster's areas show (audit log, mailbox
// list, queue) are built here once. How values are written for a page is
// panel/viewmodel's.
package request

import (
	"strings"

	"github.com/postdesk/postdesk/panel/clientsetup"

	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/static"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/views"
)

// Identity is who is signed in, built by the session middleware from the
// login, never from a form field.
type Identity struct {
	Login *tenants.Login
	// Scope is the widest reach of the login: every domain for an
	// administrator, the own domain for a postmaster, the own mailbox for
	// a user.
	Scope tenants.Scope
	// Self is a mailbox's scope on itself, for its own settings; zero for
	// administrators.
	Self tenants.Scope
	CSRF string
	// Flash is a message left by the previous request (a redirect after a
	// change), shown once.
	Flash string
}

// Name is what the page header shows.
func (id *Identity) Name() string {
	if id.Login.Admin != nil {
		return id.Login.Admin.Name + " (administrator)"
	}
	if id.Scope.Role == tenants.RolePostmaster {
		return id.Login.Address.String() + " (postmaster)"
	}
	return id.Login.Address.String()
}

// IsAdmin reports whether a system administrator is signed in.
func (id *Identity) IsAdmin() bool { return id.Login.Admin != nil }

// IsPostmaster reports whether a domain's postmaster is signed in.
func (id *Identity) IsPostmaster() bool { return id.Scope.Role == tenants.RolePostmaster }

const identityKey = "postdesk.identity"

// SetIdentity stores the signed-in identity in the request context.
func SetIdentity(c echo.Context, id *Identity) { c.Set(identityKey, id) }

// IdentityOf returns the signed-in identity, nil when nobody is.
func IdentityOf(c echo.Context) *Identity {
	id, _ := c.Get(identityKey).(*Identity)
	return id
}

// Flasher keeps a message for the next page of a session.
type Flasher interface {
	SetFlash(c echo.Context, msg string) error
}

// Sessions renews the signed-in session.
type Sessions interface {
	// RenewSession ends the request's session and signs the browser in
	// again as l, with a new session id and CSRF token: after a change
	// of the user's own password has ended every session of theirs, the
	// browser that made it stays signed in.
	RenewSession(c echo.Context, l *tenants.Login) error
	// OwnSessions lists the signed-in mailbox's panel and webmail
	// sessions.
	OwnSessions(c echo.Context) ([]SessionInfo, error)
	// EndOwnSession ends one of them, by its Ref; ErrNotFound when the
	// mailbox has none of that Ref.
	EndOwnSession(c echo.Context, ref string) error
}

// SessionInfo is one panel session of the signed-in account.
type SessionInfo struct {
	Ref        string // names the session without opening it
	RemoteAddr string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	Current    bool // this browser's
}

// ImportUpload is a CSV import file waiting for its confirmation.
type ImportUpload struct {
	Domain   string // the domain it is for
	Template string // the template mailbox's local part, or ""
	CSV      string
}

// ImportUploads keeps an import file on the server between its preview and
// its confirmation, for the session that uploaded it and for a limited
// time, so that the confirmation form carries a token instead of the file
// with its passwords.
type ImportUploads interface {
	// KeepImport stores u and returns its token.
	KeepImport(c echo.Context, u ImportUpload) (string, error)
	// ImportUpload returns the file a token names; ok is false when
	// there is none for this session (expired, signed out, imported).
	ImportUpload(c echo.Context, token string) (u ImportUpload, ok bool, err error)
	// DropImport removes it.
	DropImport(c echo.Context, token string) error
}

// Env is what every panel handler needs.
type Env struct {
	Tenants  *tenants.Service
	Assets   *static.Assets
	Log      *slog.Logger
	Flash    Flasher
	Sessions Sessions
	Imports  ImportUploads
	// Webmail says whether the webmail pages are there.
	Webmail bool
	// Queue is the outbound queue; nil leaves out the Delivery Options
	// and queue pages.
	Queue Queue
	// SystemMail is the system mailbox; nil leaves out its list (the
	// system postmaster's form stays).
	SystemMail SystemMail
	// ClientSetup is what mail clients are told to use; nil leaves the
	// set-up section out of a user's settings.
	ClientSetup *clientsetup.Servers
	// DNS looks up a domain's published records for its DNS page; nil
	// shows the records to publish without checking them. MailHost is
	// the host name the domains' MX records should name.
	DNS      DNSChecker
	MailHost string
	// Moderation lists a list's held posts and moderates them; nil
	// leaves them off the list's page.
	Moderation ListModeration
}

// Page builds the frame of a page: title, assets, the signed-in user, the
// navigation that user has, the CSRF token of the sign-out form, and the
// flash message.
func (e *Env) Page(c echo.Context, title string) views.Page {
	p := views.Page{Title: title, Stylesheet: e.Assets.Path("style.css"), Script: e.Assets.Path("panel.js")}
	id := IdentityOf(c)
	if id == nil {
		return p
	}
	p.User, p.CSRFToken, p.Flash = id.Name(), id.CSRF, id.Flash
	if msg, ok := strings.CutPrefix(p.Flash, refusedMark); ok {
		p.Flash, p.FlashRefused = msg, true
	}
	path := c.Request().URL.Path
	add := func(label, href string) {
		p.Nav = append(p.Nav, views.NavLink{Label: label, Href: href})
	}
	switch {
	case id.IsAdmin():
		add("Domains", "/admin")
		add("Mailboxes", "/admin/mailboxes")
		add("Search", "/admin/search")
		if e.Queue != nil {
			add("Delivery", "/admin/delivery")
			add("Queue", "/admin/queue")
		}
		add("System mail", "/admin/system-mail")
		add("Audit log", "/admin/audit")
		// On a domain's postmaster pages, that domain's tabs and the way
		// back to its admin page.
		if rest, ok := strings.CutPrefix(path, "/d/"); ok {
			name, _, _ := strings.Cut(rest, "/")
			if d, err := url.PathUnescape(name); err == nil && d != "" {
				p.DomainName = d
				p.DomainNav = append([]views.NavLink{{Label: "Domain settings", Href: "/admin/domains/" + url.PathEscape(d)}}, e.domainTabs(d)...)
				markCurrent(p.DomainNav, path)
			}
		}
		add("Two-factor sign-in", "/two-factor")
	case id.IsPostmaster():
		if e.Webmail && id.Login.Mailbox.Webmail {
			add("Mail", "/webmail")
		}
		p.Nav = append(p.Nav, e.domainTabs(id.Login.Address.Domain.String())...)
		add("My settings", "/settings")
	default:
		if e.Webmail && id.Login.Mailbox.Webmail {
			add("Mail", "/webmail")
		}
		add("My settings", "/settings")
	}
	markCurrent(p.Nav, path)
	return p
}

// domainTabs are the postmaster pages of domain d: a postmaster's
// navigation, and an administrator's tabs on that domain's pages.
func (e *Env) domainTabs(d string) []views.NavLink {
	base := "/d/" + url.PathEscape(d)
	tabs := []views.NavLink{{Label: "Mailboxes", Href: base}, {Label: "Aliases", Href: base + "/aliases"}, {Label: "Lists", Href: base + "/lists"},
		{Label: "Contacts", Href: base + "/contacts"}, {Label: "DNS", Href: base + "/dns"}, {Label: "Import", Href: base + "/import"}}
	if e.Queue != nil {
		tabs = append(tabs, views.NavLink{Label: "Queue", Href: base + "/queue"})
	}
	return append(tabs, views.NavLink{Label: "Rules", Href: base + "/rules"}, views.NavLink{Label: "Audit log", Href: base + "/audit"})
}

// markCurrent marks the link whose path is the longest prefix of the
// page's: /admin/system-mail is System mail's, not Domains' (/admin).
func markCurrent(nav []views.NavLink, path string) {
	best := -1
	for i, l := range nav {
		if path != l.Href && (l.Href == "/" || !strings.HasPrefix(path, l.Href+"/")) {
			continue
		}
		if best < 0 || len(l.Href) > len(nav[best].Href) {
			best = i
		}
	}
	if best >= 0 {
		nav[best].Current = true
	}
}

// Render renders a component with the request's context into a buffer, so
// that a rendering error still produces a clean error page.
func Render(c echo.Context, status int, t templ.Component) error {
	var buf bytes.Buffer
	if err := t.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// refusedMark starts a flash message that says why an action was
// refused; no message text starts with a control character.
const refusedMark = "\x01"

// Refused leaves why an action from a list or a page (remove, retry) was
// refused for the top of the next page, and redirects there: reloading
// that page does not post again. msg names what to do instead.
func (e *Env) Refused(c echo.Context, msg, to string) error {
	return e.Done(c, refusedMark+msg, to)
}

// Done leaves msg for the next page and redirects there (post, redirect,
// get), so that reloading the page does not repeat the change.
func (e *Env) Done(c echo.Context, msg, to string) error {
	if err := e.Flash.SetFlash(c, msg); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// FieldErrors turns a tenants error a user can fix into messages per form
// field ("" for the form as a whole); ok is false for other errors, which
// the caller returns.
func FieldErrors(err error) (map[string]string, bool) {
	var ve *tenants.ValidationError
	var ce *tenants.ConflictError
	var le *tenants.LimitError
	switch {
	case errors.As(err, &ve):
		return map[string]string{ve.Field: ve.Message}, true
	case errors.As(err, &ce):
		return map[string]string{"": ce.Error()}, true
	case errors.As(err, &le):
		return map[string]string{"": le.Error()}, true
	case errors.Is(err, tenants.ErrNotEmpty):
		return map[string]string{"": err.Error()}, true
	case errors.Is(err, tenants.ErrExists):
		return map[string]string{"": "that name is already taken"}, true
	case errors.Is(err, tenants.ErrForbidden):
		return map[string]string{"": "you may not do that"}, true
	}
	return nil, false
}

// Status maps a tenants sentinel to an HTTP error the error handler shows
// as a page; other errors stay as they are (500).
func Status(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tenants.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound)
	case errors.Is(err, tenants.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden)
	}
	return err
}

// Message is text an error page may show the user as it is; other
// messages of an *echo.HTTPError are replaced by the status text.
type Message string

// Refuse is an HTTP error whose page tells the user msg.
func Refuse(code int, msg string) error {
	return echo.NewHTTPError(code, Message(msg))
}

// DomainParam parses the :domain path parameter; a malformed one is "not
// found".
func DomainParam(c echo.Context) (address.Domain, error) {
	raw, err := url.PathUnescape(c.Param("domain"))
	if err != nil {
		return "", echo.NewHTTPError(http.StatusNotFound)
	}
	d, err := address.ParseDomain(raw)
	if err != nil {
		return "", echo.NewHTTPError(http.StatusNotFound)
	}
	return d, nil
}

// LocalParam parses a local-part path parameter in domain.
func LocalParam(c echo.Context, name string, domain address.Domain) (address.Address, error) {
	raw, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return address.Address{}, echo.NewHTTPError(http.StatusNotFound)
	}
	lp, err := address.ParseLocalpart(raw)
	if err != nil {
		return address.Address{}, echo.NewHTTPError(http.StatusNotFound)
	}
	return address.Address{Local: lp, Domain: domain}, nil
}

// PageNumber reads the 1-based ?page= parameter.
func PageNumber(c echo.Context) int {
	n, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, 1_000_000)
}

// Client is the real client as the panel sees it, behind trusted proxies.
type Client struct {
	Addr  string // IP address, for the throttle and the audit log
	HTTPS bool   // reached over HTTPS: cookies are marked Secure
}

const clientKey = "postdesk.client"

// SetClient stores the client in the request context.
func SetClient(c echo.Context, cl Client) { c.Set(clientKey, cl) }

// ClientOf returns the client of the request.
func ClientOf(c echo.Context) Client {
	cl, _ := c.Get(clientKey).(Client)
	return cl
}
