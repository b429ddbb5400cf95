package panel

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
	"github.com/postdesk/postdesk/tenants"
)

// maxFormBytes bounds a panel request body: the largest is a bulk import
// file (tenants.MaxImportBytes) sent again with its confirmation.
const maxFormBytes = tenants.MaxImportBytes + 1<<20

const sessionHashKey = "postdesk.session"

// session finds the signed-in identity from the session cookie. The login
// is looked up again on every request, so that a removed, disabled or
// expired account, or a mailbox that lost its panel permission, is signed
// out at once. The Scope comes from that login, never from the request.
func (s *Server) session(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err != nil {
			return next(c)
		}
		ctx := c.Request().Context()
		row, err := s.sessions.load(ctx, ck.Value)
		if err != nil {
			return err
		}
		if row == nil {
			s.clearCookie(c, sessionCookie)
			return next(c)
		}
		l, err := s.deps.Tenants.SessionLogin(ctx, row.AdminID, row.MailboxID)
		var le *tenants.LoginError
		if err == nil && !panelAllowed(l) {
			err = &tenants.LoginError{Reason: tenants.Inactive}
		}
		if errors.Is(err, tenants.ErrNotFound) || errors.As(err, &le) {
			if err := s.sessions.destroy(ctx, row.IDHash); err != nil {
				return err
			}
			s.clearCookie(c, sessionCookie)
			return next(c)
		}
		if err != nil {
			return err
		}
		remote := web.ClientOf(c).Addr
		id := &web.Identity{Login: l, Scope: l.ManagerScope(remote), CSRF: row.CSRF}
		if l.Mailbox != nil {
			id.Self = l.UserScope(remote)
		}
		if row.Flash != "" && c.Request().Method == http.MethodGet {
			id.Flash = row.Flash
			if err := s.sessions.setFlash(ctx, row.IDHash, ""); err != nil {
				return err
			}
		}
		c.Set(sessionHashKey, row.IDHash)
		web.SetIdentity(c, id)
		return next(c)
	}
}

// panelAllowed reports whether a login may use the panel: administrators,
// postmasters, and mailboxes whose webmail login is allowed.
func panelAllowed(l *tenants.Login) bool {
	return l.Admin != nil || l.Mailbox.Postmaster || l.Mailbox.Webmail
}

// csrf refuses state-changing requests from other sites: any that a
// browser marks cross-site (Sec-Fetch-Site), and any without the form
// token of the session (or, before sign-in, of the sign-in form's cookie).
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return echo.NewHTTPError(http.StatusForbidden)
		}
		limit := int64(maxFormBytes)
		if s.uploadLimit > 0 && r.URL.Path == "/webmail/compose" {
			limit = s.uploadLimit
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		if err := parseForm(r); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return web.Refuse(http.StatusRequestEntityTooLarge, "What you sent is larger than the server takes ("+tenants.FormatSize(limit)+").")
			}
		}
		want := ""
		if id := web.IdentityOf(c); id != nil {
			want = id.CSRF
		} else if ck, err := c.Cookie(preCSRFCookie); err == nil {
			want = ck.Value
		}
		got := c.FormValue("csrf")
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden)
		}
		return next(c)
	}
}

// parseForm reads a form body, multipart or URL-encoded; files past 32
// MiB go to temporary files, which net/http removes after the request.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(32 << 20)
	}
	return r.ParseForm()
}

// requireRole lets through identities of the given roles; others are sent
// to sign in, or refused.
func requireRole(roles ...tenants.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := web.IdentityOf(c)
			if id == nil {
				return toSignIn(c)
			}
			for _, r := range roles {
				if id.Scope.Role == r {
					return next(c)
				}
			}
			return echo.NewHTTPError(http.StatusForbidden)
		}
	}
}

// requireMailbox lets through a signed-in mailbox (user or postmaster).
func requireMailbox(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := web.IdentityOf(c)
		if id == nil {
			return toSignIn(c)
		}
		if id.Login.Mailbox == nil {
			return echo.NewHTTPError(http.StatusForbidden)
		}
		return next(c)
	}
}

func toSignIn(c echo.Context) error {
	if c.Request().Method != http.MethodGet {
		return echo.NewHTTPError(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
}

// SetFlash keeps a message for the session's next page (web.Flasher).
func (s *Server) SetFlash(c echo.Context, msg string) error {
	h, _ := c.Get(sessionHashKey).(string)
	if h == "" {
		return nil
	}
	return s.sessions.setFlash(c.Request().Context(), h, msg)
}

func (s *Server) setCookie(c echo.Context, name, value string) {
	c.SetCookie(&http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: web.ClientOf(c).HTTPS,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.deps.SessionTTL.Seconds()),
	})
}

func (s *Server) clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: web.ClientOf(c).HTTPS,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
