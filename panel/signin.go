package panel

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/views"
)

func (s *Server) signInPage(c echo.Context) error {
	if request.IdentityOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	vm := views.SignInPage{Next: c.QueryParam("next")}
	if c.QueryParam("signed-out") != "" {
		vm.Notice = "You are signed out."
	}
	return s.renderSignIn(c, http.StatusOK, vm)
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
	return request.Render(c, status, views.SignIn(vm))
}

// signIn checks a login through tenants.ResolveLogin, with the throttle
// every protocol shares, and starts a new session: a fresh id, whatever
// session the browser had before is ended (no fixation).
func (s *Server) signIn(c echo.Context) error {
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("login"))
	vm := views.SignInPage{Login: name, Next: c.FormValue("next")}
	l, err := s.deps.Tenants.ResolveLogin(ctx, tenants.PanelLogin, name, c.FormValue("password"), request.ClientOf(c).Addr)
	var le *tenants.LoginError
	switch {
	case errors.As(err, &le):
		s.log.InfoContext(ctx, "panel sign-in refused", "login", name, "reason", le.Reason, "remote", request.ClientOf(c).Addr)
		vm.Error = views.Sentence(le.Error())
		return s.renderSignIn(c, http.StatusUnauthorized, vm)
	case err != nil:
		return err
	case !panelAllowed(l):
		vm.Error = "This account may not sign in to webmail or the panel."
		return s.renderSignIn(c, http.StatusForbidden, vm)
	}
	if s.deps.Webmail != nil {
		// The sign-in makes the mailbox's folders, so that webmail's
		// pages only read (as an IMAP login makes them).
		if err := webmail.SignedIn(ctx, *s.deps.Webmail, l); err != nil {
			return err
		}
	}
	if h, _ := c.Get(sessionHashKey).(string); h != "" {
		if err := s.sessions.destroy(ctx, h); err != nil {
			return err
		}
	}
	id, _, err := s.sessions.create(ctx, l, request.ClientOf(c).Addr, "")
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, id)
	s.clearCookie(c, preCSRFCookie)
	return c.Redirect(http.StatusSeeOther, safeNext(vm.Next))
}

// RenewSession ends the request's session and starts a new one for l
// (request.Sessions), so that a browser whose user just changed their own
// password stays signed in while every other session of theirs has
// ended. The new session has a new id; it keeps the browser's CSRF token,
// so that the forms of its other open pages still work. The identity of
// this request takes the new session, so the flash it leaves goes to it.
func (s *Server) RenewSession(c echo.Context, l *tenants.Login) error {
	ctx := c.Request().Context()
	csrf := ""
	if ident := request.IdentityOf(c); ident != nil {
		csrf = ident.CSRF
	}
	if h, _ := c.Get(sessionHashKey).(string); h != "" {
		if err := s.sessions.destroy(ctx, h); err != nil {
			return err
		}
	}
	id, row, err := s.sessions.create(ctx, l, request.ClientOf(c).Addr, csrf)
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, id)
	c.Set(sessionHashKey, row.IDHash)
	if ident := request.IdentityOf(c); ident != nil {
		ident.Login = l
	}
	return nil
}

// signOut ends the session: its id is dead from now on, whoever holds it.
func (s *Server) signOut(c echo.Context) error {
	if h, _ := c.Get(sessionHashKey).(string); h != "" {
		if err := s.sessions.destroy(c.Request().Context(), h); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie)
	// The session, and any flash it could carry, is gone: the sign-in page
	// says it from the query.
	return c.Redirect(http.StatusSeeOther, "/login?signed-out=1")
}

// maxNext bounds a post-sign-in redirect: a path of ours is short, and the
// sign-in form carrying it must fit maxSignInBytes.
const maxNext = 2048

// safeNext keeps a post-sign-in redirect on this site: a path of ours,
// never another site's URL. Browsers drop tabs and newlines from a URL and
// read "\" as "/", so that "/\t/evil.example" or "/\evil.example" leads to
// //evil.example: any control character or backslash refuses next
// outright, as does one hidden behind percent-encoding. What is left must
// parse as a path alone (no scheme, no host, one leading "/"), and only its
// path and query are kept, encoded again.
func safeNext(next string) string {
	if next == "" || len(next) > maxNext || unsafeInURL(next) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || unsafeInURL(u.Path) {
		return "/"
	}
	return (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).String()
}

// unsafeInURL reports whether s holds a control character (0x00-0x1F,
// 0x7F) or a backslash.
func unsafeInURL(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' })
}
