package panel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/admin"
	"github.com/postdesk/postdesk/panel/api"
	"github.com/postdesk/postdesk/panel/carddav"
	"github.com/postdesk/postdesk/panel/clientsetup"
	"github.com/postdesk/postdesk/panel/lists"
	"github.com/postdesk/postdesk/panel/postmaster"
	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/settings"
	"github.com/postdesk/postdesk/panel/stspolicy"
	"github.com/postdesk/postdesk/panel/twofactor"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/static"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/views"
)

// Deps are what the panel needs from the rest of the program.
type Deps struct {
	Tenants *tenants.Service
	Logger  *slog.Logger
	// Health reports the database's state for /healthz.
	Health func(context.Context) error
	// PublicURL is the address users reach the panel at; an https URL
	// marks cookies Secure even when a proxy talks plain HTTP to us.
	PublicURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// SessionTTL is how long a sign-in lasts; zero: 12 hours.
	SessionTTL time.Duration
	// Webmail is the end users' mail on the message store; nil leaves
	// webmail out (no /webmail pages; users land on their settings).
	Webmail *webmail.Config
	// Queue is the outbound queue (mailsvc/queue); nil leaves out the
	// Delivery Options and queue pages.
	Queue request.Queue
	// ClientSetup is what mail clients setting themselves up are told
	// (autoconfig, autodiscover); nil leaves those routes out.
	ClientSetup *clientsetup.Servers
	// SystemMail is the system mailbox (mailsvc/store); nil leaves out
	// its list on the administrator's System mail page.
	SystemMail request.SystemMail
	// ListModeration approves and rejects lists' held posts through
	// their signed links (mailsvc/delivery); nil leaves those links out.
	ListModeration request.ListModeration
	// DNS checks a domain's published records on its DNS page
	// (mailsvc/msgauth); nil shows what to publish without checking.
	// MailHost is the host the domains' MX records should name.
	DNS      request.DNSChecker
	MailHost string
}

// Server is the panel's HTTP side.
type Server struct {
	deps        Deps
	env         *request.Env
	log         *slog.Logger
	sessions    *sessionStore
	imports     *importStore
	publicHTTPS bool
	uploadLimit int64 // request body limit of the webmail compose form
	readTimeout time.Duration
}

// Cookie names.
const (
	sessionCookie = "postdesk_session"
	preCSRFCookie = "postdesk_csrf" // double-submit token of the sign-in form
)

// New builds the panel and its routes.
func New(deps Deps) (*echo.Echo, error) {
	assets, err := static.New()
	if err != nil {
		return nil, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.SessionTTL == 0 {
		deps.SessionTTL = 12 * time.Hour
	}
	s := &Server{deps: deps, log: deps.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if deps.PublicURL != "" {
		u, err := url.Parse(deps.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("public URL %q: give http:// or https:// and a host", deps.PublicURL)
		}
		s.publicHTTPS = u.Scheme == "https"
	}
	s.sessions = &sessionStore{db: deps.Tenants.DB(), now: deps.Now, ttl: deps.SessionTTL}
	s.imports = &importStore{db: deps.Tenants.DB(), now: deps.Now}
	s.env = &request.Env{Tenants: deps.Tenants, Assets: assets, Log: s.log, Flash: s, Sessions: s, Imports: s, Webmail: deps.Webmail != nil, Queue: deps.Queue, ClientSetup: deps.ClientSetup,
		SystemMail: deps.SystemMail, DNS: deps.DNS, MailHost: deps.MailHost, Moderation: deps.ListModeration}
	if deps.Webmail != nil {
		s.uploadLimit = webmail.UploadLimit(deps.Webmail.MaxMessageBytes)
	}
	s.readTimeout, _ = Timeouts(deps)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(securityHeaders, s.clientInfo)
	s.routes(e)
	return e, nil
}

// Timeouts are the read and write timeouts for the http.Server that
// serves the panel built from deps: the read timeout gives its largest
// request body (a webmail upload, else a CSV import) BodyTimeout to
// arrive; the write timeout, which counts from the same start, as long
// again to send an answer as large (a message downloaded from webmail).
// Within them the panel sets each request's read deadline by what that
// request may send.
func Timeouts(deps Deps) (read, write time.Duration) {
	largest := int64(maxImportBody)
	if deps.Webmail != nil {
		largest = max(largest, webmail.UploadLimit(deps.Webmail.MaxMessageBytes))
	}
	read = BodyTimeout(largest)
	return read, 2 * read
}

func (s *Server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.StaticFS("/static", static.FS())
	api.Routes(e.Group("/api/v1"), s.env)
	// Routes for clients that are not browsers sit here, outside the
	// session and CSRF group below, which would refuse their POSTs: the
	// API (bearer keys), mail clients' set-up (no credentials), CardDAV
	// (HTTP Basic through tenants.ResolveLogin).
	if s.deps.ClientSetup != nil {
		clientsetup.Routes(e, s.deps.Tenants, *s.deps.ClientSetup, s.log)
	}
	// Hosted domains' MTA-STS policies, asked for by other mail servers
	// at mta-sts.DOMAIN.
	stspolicy.Routes(e, s.deps.Tenants, s.deps.MailHost)
	// Mailing lists' one-click unsubscribe (RFC 8058) and confirmation
	// links: a signed or one-time token authenticates them.
	lists.Routes(e, s.deps.Tenants, s.deps.ListModeration, s.env, s.log)
	carddav.Routes(e, s.deps.Tenants, s.log)

	// Everything below is the cookie-signed-in panel: sessions and CSRF.
	g := e.Group("", s.session, s.csrf, enrolFirst)
	g.GET("/", s.home)
	g.GET("/login", s.signInPage)
	g.POST("/login", s.signIn)
	g.GET("/login/code", s.secondStepPage)
	g.POST("/login/code", s.secondStep)
	g.POST("/logout", s.signOut)
	twofactor.Routes(g.Group("/two-factor", requireSignedIn), s.env)

	admin.Routes(g.Group("/admin", requireRole(tenants.RoleAdmin)), s.env)
	postmaster.Routes(g.Group("/d/:domain", requireRole(tenants.RoleAdmin, tenants.RolePostmaster)), s.env)
	settings.Routes(g.Group("/settings", requireMailbox), s.env)
	if s.deps.Webmail != nil {
		webmail.Routes(g.Group("/webmail", requireMailbox), s.env, *s.deps.Webmail)
	}
}

func (s *Server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.deps.Health(ctx); err != nil {
		s.log.WarnContext(ctx, "health check failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

// home sends each signed-in user to their start page.
func (s *Server) home(c echo.Context) error {
	id := request.IdentityOf(c)
	switch {
	case id == nil:
		return c.Redirect(http.StatusSeeOther, "/login")
	case id.IsAdmin():
		return c.Redirect(http.StatusSeeOther, "/admin")
	case id.IsPostmaster():
		return c.Redirect(http.StatusSeeOther, "/d/"+id.Login.Address.Domain.String())
	case s.deps.Webmail != nil && id.Login.Mailbox.Webmail:
		return c.Redirect(http.StatusSeeOther, "/webmail")
	}
	return c.Redirect(http.StatusSeeOther, "/settings")
}

// errorHandler shows errors as a page, or as JSON under /api/.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := "Something went wrong on our side."
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = http.StatusText(code)
		if m, ok := he.Message.(request.Message); ok {
			msg = string(m)
		}
	} else {
		s.log.ErrorContext(c.Request().Context(), "request failed", "path", c.Path(), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		_ = c.JSON(code, map[string]string{"error": strings.ToLower(msg)})
		return
	}
	if err := request.Render(c, code, views.Error(views.ErrorPage{Page: s.env.Page(c, msg), Code: code, Message: msg})); err != nil {
		_ = c.String(code, msg)
	}
}

// securityHeaders sets what every panel response carries. Pages are never
// cached: they hold addresses and CSRF tokens.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}
