package panel

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/views"
)

func (s *Server) signInPage(c echo.Context) error {
	if web.IdentityOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return s.renderSignIn(c, http.StatusOK, views.SignInPage{Next: c.QueryParam("next")})
}

// renderSignIn shows the sign-in form with a fresh double-submit token
// when the browser has none.
func (s *Server) renderSignIn(c echo.Context, status int, vm views.SignInPage) error {
	token := ""
	if ck, err := c.Cookie(preCSRFCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		token = ck.Value
	} else {
		var err error
		if token, err = randomToken(); err != nil {
			return err
		}
		s.setCookie(c, preCSRFCookie, token)
	}
	vm.Page = s.env.Page(c, "Sign in")
	vm.CSRFToken = token
	return web.Render(c, status, views.SignIn(vm))
}

// signIn checks a login through tenants.ResolveLogin, with the throttle
// every protocol shares, and starts a new session: a fresh id, whatever
// session the browser had before is ended (no fixation).
func (s *Server) signIn(c echo.Context) error {
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("login"))
	vm := views.SignInPage{Login: name, Next: c.FormValue("next")}
	l, err := s.deps.Tenants.ResolveLogin(ctx, name, c.FormValue("password"), web.ClientOf(c).Addr)
	var le *tenants.LoginError
	switch {
	case errors.As(err, &le):
		s.log.InfoContext(ctx, "panel sign-in refused", "login", name, "reason", le.Reason, "remote", web.ClientOf(c).Addr)
		vm.Error = le.Error()
		return s.renderSignIn(c, http.StatusUnauthorized, vm)
	case err != nil:
		return err
	case !panelAllowed(l):
		vm.Error = "This account may not sign in to webmail or the panel."
		return s.renderSignIn(c, http.StatusForbidden, vm)
	}
	if h, _ := c.Get(sessionHashKey).(string); h != "" {
		if err := s.sessions.destroy(ctx, h); err != nil {
			return err
		}
	}
	id, _, err := s.sessions.create(ctx, l, web.ClientOf(c).Addr)
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, id)
	s.clearCookie(c, preCSRFCookie)
	return c.Redirect(http.StatusSeeOther, safeNext(vm.Next))
}

// signOut ends the session: its id is dead from now on, whoever holds it.
func (s *Server) signOut(c echo.Context) error {
	if h, _ := c.Get(sessionHashKey).(string); h != "" {
		if err := s.sessions.destroy(c.Request().Context(), h); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps a post-sign-in redirect on this site: a path, never
// "//host" or "/\host".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
