package panel

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

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
}

// Server is the panel's HTTP side.
type Server struct {
	deps   Deps
	assets *static.Assets
	log    *slog.Logger
}

// New builds the panel and its routes.
func New(deps Deps) (*echo.Echo, error) {
	assets, err := static.New()
	if err != nil {
		return nil, err
	}
	s := &Server{deps: deps, assets: assets, log: deps.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(securityHeaders)
	s.routes(e)
	return e, nil
}

func (s *Server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/", s.signInPage)
	e.GET("/login", s.signInPage)
	e.StaticFS("/static", static.FS())
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

func (s *Server) page(title, user string) views.Page {
	return views.Page{Title: title, Stylesheet: s.assets.Path("style.css"), User: user}
}

func (s *Server) signInPage(c echo.Context) error {
	return Render(c, http.StatusOK, views.SignIn(views.SignInPage{Page: s.page("Sign in", ""), Next: c.QueryParam("next")}))
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

func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := "Something went wrong on our side."
	if he, ok := err.(*echo.HTTPError); ok {
		code = he.Code
		msg = http.StatusText(code)
	} else {
		s.log.ErrorContext(c.Request().Context(), "request failed", "path", c.Path(), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.String(code, msg)
}

// securityHeaders sets what every panel response carries.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		return next(c)
	}
}
