package panel

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
)

// Request body limits of the cookie-signed-in panel. No byte of a body is
// read before the session is known: without one, only the sign-in form is
// taken, and only the little it needs; large bodies only from those who
// may send them, on the one route that takes them.
const (
	// maxSignInBytes bounds the sign-in form: name, password, next and
	// token.
	maxSignInBytes = 8 << 10
	// maxFormBytes bounds every other form of a signed-in user.
	maxFormBytes = 1 << 20
	// maxImportBody bounds the CSV import upload (administrators and
	// postmasters): the file and room for the fields.
	maxImportBody = tenants.MaxImportBytes + 1<<20
	// formMemory is how much of a multipart form is kept in memory;
	// files past it go to temporary files, removed after the request.
	formMemory = 1 << 20
)

// MinUploadRate is the slowest rate, in bytes a second, at which the panel
// waits for a request body: one of up to n bytes has BodyTimeout(n) to
// arrive, so that a client trickling a body holds no connection for long.
const MinUploadRate = 64 << 10

// bodyGrace is the time any request body has on top of its size at
// MinUploadRate; refusedDrain is how long the server goes on reading what
// a refused client still sends before it closes the connection.
const (
	bodyGrace    = 30 * time.Second
	refusedDrain = 5 * time.Second
)

// BodyTimeout is how long a request body of up to n bytes may take to
// arrive.
func BodyTimeout(n int64) time.Duration {
	return bodyGrace + time.Duration(n/MinUploadRate)*time.Second
}

const sessionHashKey = "postdesk.session"

// pendingKey holds the *sessionRow of a sign-in waiting for its second
// factor.
const pendingKey = "postdesk.pending"

// session finds the signed-in identity from the session cookie. The login
// is looked up again on every request, so that a removed, disabled or
// expired account, a mailbox that lost its panel permission, or an account
// whose password changed since the session signed in (its credentials
// version moved on), is signed out at once. The Scope comes from that
// login, never from the request.
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
		if row.SecondFactorPending {
			// Only the second step reads it; everywhere else the
			// browser is not signed in.
			c.Set(pendingKey, row)
			return next(c)
		}
		l, err := s.deps.Tenants.SessionLogin(ctx, row.AdminID, row.MailboxID)
		var le *tenants.LoginError
		if err == nil && !panelAllowed(l) {
			err = &tenants.LoginError{Reason: tenants.Inactive}
		}
		if err == nil && credentialsVersion(l) != row.CredentialsVersion {
			err = &tenants.LoginError{Reason: tenants.BadCredentials}
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
		remote := request.ClientOf(c).Addr
		id := &request.Identity{Login: l, Scope: l.ManagerScope(remote), CSRF: row.CSRF}
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
		request.SetIdentity(c, id)
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
// It is also where a form body is read, and it reads none before it knows
// who sends it: a request with neither a session nor (for the sign-in
// form) the sign-in form's cookie is refused unread. The body limit and
// read deadline then follow from who is signed in and which route is
// asked (bodyLimit).
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			// These carry no form: should a handler ask for a form
			// value, no byte of a body sent with them is read.
			r.Body = http.MaxBytesReader(c.Response().Writer, r.Body, 0)
			return next(c)
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return refuseUnread(c)
		}
		id := request.IdentityOf(c)
		want := ""
		if id != nil {
			want = id.CSRF
		} else if ck, err := c.Cookie(preCSRFCookie); err == nil && c.Path() == "/login" {
			want = ck.Value
		} else if p, ok := c.Get(pendingKey).(*sessionRow); ok && c.Path() == "/login/code" {
			want = p.CSRF
		}
		if want == "" {
			return refuseUnread(c)
		}
		limit := s.bodyLimit(c, id)
		setReadDeadline(c, BodyTimeout(limit))
		r.Body = http.MaxBytesReader(c.Response().Writer, r.Body, limit)
		err := parseForm(r)
		if r.MultipartForm != nil {
			// net/http removes these after the request too, but only
			// for the request it made (not one a middleware copied).
			defer r.MultipartForm.RemoveAll()
		}
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return request.Refuse(http.StatusRequestEntityTooLarge, "What you sent is larger than the server takes ("+tenants.FormatSize(limit)+").")
		case err != nil:
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		// The body is read: the handler (a large import, a message sent)
		// may take as long as the server lets any request take.
		setReadDeadline(c, s.readTimeout)
		got := r.PostFormValue("csrf")
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden)
		}
		return next(c)
	}
}

// bodyLimit is the largest body a request may send: the sign-in form's
// few KiB before sign-in, a webmail upload for a mailbox with webmail on
// the compose route, a CSV file for an administrator or postmaster on the
// import route, an ordinary form otherwise. Only multipart forms are
// uploads; a URL-encoded body is parsed in memory.
func (s *Server) bodyLimit(c echo.Context, id *request.Identity) int64 {
	if id == nil || c.Path() == "/login" {
		return maxSignInBytes
	}
	if !strings.HasPrefix(c.Request().Header.Get("Content-Type"), "multipart/form-data") {
		return maxFormBytes
	}
	switch c.Path() {
	case "/webmail/compose":
		if s.uploadLimit > 0 && id.Login.Mailbox != nil && id.Login.Mailbox.Webmail {
			return s.uploadLimit
		}
	case "/d/:domain/import", "/d/:domain/contacts/import":
		if id.IsAdmin() || id.IsPostmaster() {
			return maxImportBody
		}
	}
	return maxFormBytes
}

// refuseUnread answers 403 without reading the request body, and closes
// the connection after a short drain instead of waiting for the rest.
func refuseUnread(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderConnection, "close")
	setReadDeadline(c, refusedDrain)
	return echo.NewHTTPError(http.StatusForbidden)
}

// setReadDeadline moves the connection's read deadline to d from now. A
// ResponseWriter without a connection (a test's recorder) has none to
// move.
func setReadDeadline(c echo.Context, d time.Duration) {
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(d))
}

// parseForm reads a form body, multipart or URL-encoded; of a multipart
// one, at most formMemory stays in memory, the rest of its files goes to
// temporary files.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(formMemory)
	}
	return r.ParseForm()
}

// requireRole lets through identities of the given roles; others are sent
// to sign in, or refused.
func requireRole(roles ...tenants.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := request.IdentityOf(c)
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
		id := request.IdentityOf(c)
		if id == nil {
			return toSignIn(c)
		}
		if id.Login.Mailbox == nil {
			return echo.NewHTTPError(http.StatusForbidden)
		}
		return next(c)
	}
}

// requireSignedIn lets any signed-in identity through.
func requireSignedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if request.IdentityOf(c) == nil {
			return toSignIn(c)
		}
		return next(c)
	}
}

// enrolFirst keeps an account that must sign in with two factors, and has
// none yet, on its two-factor page until it has (and lets it sign out).
func enrolFirst(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := request.IdentityOf(c)
		if id == nil || !id.Login.TwoFactorRequired || id.Login.TwoFactor {
			return next(c)
		}
		p := c.Path()
		if strings.HasPrefix(p, "/two-factor") || p == "/logout" || p == "/login" {
			return next(c)
		}
		if c.Request().Method == http.MethodGet {
			return c.Redirect(http.StatusSeeOther, "/two-factor")
		}
		return echo.NewHTTPError(http.StatusForbidden, "set up two-factor sign-in first")
	}
}

func toSignIn(c echo.Context) error {
	if c.Request().Method != http.MethodGet {
		return echo.NewHTTPError(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
}

// SetFlash keeps a message for the session's next page (request.Flasher).
func (s *Server) SetFlash(c echo.Context, msg string) error {
	h, _ := c.Get(sessionHashKey).(string)
	if h == "" {
		return nil
	}
	return s.sessions.setFlash(c.Request().Context(), h, msg)
}

func (s *Server) setCookie(c echo.Context, name, value string) {
	c.SetCookie(&http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: request.ClientOf(c).HTTPS,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.deps.SessionTTL.Seconds()),
	})
}

func (s *Server) clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: request.ClientOf(c).HTTPS,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
