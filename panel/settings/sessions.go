package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

// sessions lists the user's panel and webmail sessions and where their
// logins came from.
func (h handlers) sessions(c echo.Context) error {
	id := request.IdentityOf(c)
	ss, err := h.Sessions.OwnSessions(c)
	if err != nil {
		return request.Status(err)
	}
	logins, err := h.Tenants.RecentLogins(c.Request().Context(), id.Self, id.Login.Address)
	if err != nil {
		return request.Status(err)
	}
	vm := vsettings.SessionsPage{Page: h.Page(c, "Sessions and logins"), CSRFToken: id.CSRF}
	for _, s := range ss {
		vm.Sessions = append(vm.Sessions, vsettings.SessionRow{Ref: s.Ref, RemoteAddr: s.RemoteAddr, Created: viewmodel.When(&s.CreatedAt), Expires: viewmodel.When(&s.ExpiresAt), Current: s.Current})
	}
	for _, l := range logins {
		vm.Logins = append(vm.Logins, vsettings.LoginRow{Protocol: l.Protocol, RemoteAddr: l.RemoteAddr, First: viewmodel.When(&l.FirstAt), Last: viewmodel.When(&l.LastAt), Count: viewmodel.Num(l.Logins)})
	}
	return request.Render(c, http.StatusOK, vsettings.Sessions(vm))
}

// sessionEnd ends one of the user's panel or webmail sessions.
func (h handlers) sessionEnd(c echo.Context) error {
	if err := h.Sessions.EndOwnSession(c, c.FormValue("ref")); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "The session is ended.", "/settings/sessions")
}

// sessionsEndMail ends the user's open IMAP, POP3 and SMTP sessions.
func (h handlers) sessionsEndMail(c echo.Context) error {
	id := request.IdentityOf(c)
	if err := h.Tenants.EndProtocolSessions(c.Request().Context(), id.Self, id.Login.Address); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "Your mail programs' open sessions end within a minute.", "/settings/sessions")
}
