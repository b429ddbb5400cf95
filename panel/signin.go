package panel

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/views"
	vtwofactor "github.com/postdesk/postdesk/views/twofactor"
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
	if err := s.endCurrent(c); err != nil {
		return err
	}
	if l.TwoFactor {
		// The password was right; the session opens once the second
		// factor is given too (secondStep).
		id, _, err := s.sessions.createPending(ctx, l, request.ClientOf(c).Addr)
		if err != nil {
			return err
		}
		s.setCookie(c, sessionCookie, id)
		s.clearCookie(c, preCSRFCookie)
		return c.Redirect(http.StatusSeeOther, "/login/code?next="+url.QueryEscape(safeNext(vm.Next)))
	}
	return s.startSession(c, l, vm.Next)
}

// endCurrent ends whatever session the browser had, a pending one too.
func (s *Server) endCurrent(c echo.Context) error {
	h, _ := c.Get(sessionHashKey).(string)
	if p, ok := c.Get(pendingKey).(*sessionRow); ok {
		h = p.IDHash
	}
	if h == "" {
		return nil
	}
	return s.sessions.destroy(c.Request().Context(), h)
}

// startSession starts a signed-in session (a fresh id: no fixation) and
// goes on to next.
func (s *Server) startSession(c echo.Context, l *tenants.Login, next string) error {
	ctx := c.Request().Context()
	if s.deps.Webmail != nil {
		// The sign-in makes the mailbox's folders, so that webmail's
		// pages only read (as an IMAP login makes them).
		if err := webmail.SignedIn(ctx, *s.deps.Webmail, l); err != nil {
			return err
		}
	}
	id, _, err := s.sessions.create(ctx, l, request.ClientOf(c).Addr, "")
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, id)
	s.clearCookie(c, preCSRFCookie)
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// secondStepPage asks a sign-in whose password was right for its second
// factor.
func (s *Server) secondStepPage(c echo.Context) error {
	p, ok := c.Get(pendingKey).(*sessionRow)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return s.renderSecondStep(c, http.StatusOK, p, c.QueryParam("next"), "")
}

func (s *Server) renderSecondStep(c echo.Context, status int, p *sessionRow, next, msg string) error {
	return request.Render(c, status, vtwofactor.SecondStepPage(vtwofactor.SecondStep{
		Page: s.env.Page(c, "Two-factor sign-in"), CSRFToken: p.CSRF, Next: next, Error: msg,
	}))
}

// secondStep checks the second factor (tenants.CheckSecondFactor, which
// counts against the shared login throttle) and, when it is right, ends
// the pending session and starts a signed-in one with a new id.
func (s *Server) secondStep(c echo.Context) error {
	ctx := c.Request().Context()
	p, ok := c.Get(pendingKey).(*sessionRow)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	next := c.FormValue("next")
	l, err := s.deps.Tenants.SessionLogin(ctx, p.AdminID, p.MailboxID)
	var le *tenants.LoginError
	if err == nil && (credentialsVersion(l) != p.CredentialsVersion || !panelAllowed(l)) {
		err = &tenants.LoginError{Reason: tenants.BadCredentials}
	}
	if errors.Is(err, tenants.ErrNotFound) || errors.As(err, &le) {
		// The account changed since its password was given.
		if err := s.sessions.destroy(ctx, p.IDHash); err != nil {
			return err
		}
		s.clearCookie(c, sessionCookie)
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if err != nil {
		return err
	}
	err = s.deps.Tenants.CheckSecondFactor(ctx, l, c.FormValue("code"), request.ClientOf(c).Addr)
	switch {
	case errors.As(err, &le) && le.Reason == tenants.Locked:
		s.log.InfoContext(ctx, "panel second factor refused", "reason", le.Reason, "remote", request.ClientOf(c).Addr)
		return s.renderSecondStep(c, http.StatusUnauthorized, p, next, le.Error())
	case errors.As(err, &le):
		s.log.InfoContext(ctx, "panel second factor refused", "reason", le.Reason, "remote", request.ClientOf(c).Addr)
		return s.renderSecondStep(c, http.StatusUnauthorized, p, next, "This code is not right, or was used before.")
	case err != nil:
		return err
	}
	if err := s.sessions.destroy(ctx, p.IDHash); err != nil {
		return err
	}
	return s.startSession(c, l, next)
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

// OwnSessions lists the signed-in mailbox's sessions (request.Sessions).
func (s *Server) OwnSessions(c echo.Context) ([]request.SessionInfo, error) {
	id := request.IdentityOf(c)
	if id == nil || id.Login.Mailbox == nil {
		return nil, tenants.ErrForbidden
	}
	rows, err := s.sessions.ofMailbox(c.Request().Context(), id.Login.Mailbox.ID)
	if err != nil {
		return nil, err
	}
	cur, _ := c.Get(sessionHashKey).(string)
	out := make([]request.SessionInfo, 0, len(rows))
	for _, r := range rows {
		out = append(out, request.SessionInfo{Ref: sessionRef(r.IDHash), RemoteAddr: r.RemoteAddr, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, Current: r.IDHash == cur})
	}
	return out, nil
}

// EndOwnSession ends one of the signed-in mailbox's sessions by its Ref
// (request.Sessions); another account's is not found.
func (s *Server) EndOwnSession(c echo.Context, ref string) error {
	id := request.IdentityOf(c)
	if id == nil || id.Login.Mailbox == nil {
		return tenants.ErrForbidden
	}
	ctx := c.Request().Context()
	rows, err := s.sessions.ofMailbox(ctx, id.Login.Mailbox.ID)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if sessionRef(r.IDHash) == ref {
			return s.sessions.destroy(ctx, r.IDHash)
		}
	}
	return fmt.Errorf("session %q: %w", ref, tenants.ErrNotFound)
}
