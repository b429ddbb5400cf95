package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// listMemberPause pauses (paused=on) or resumes a member; resuming enables
// a member that bounces had disabled.
func (h handlers) listMemberPause(c echo.Context) error {
	a, err := h.listParam(c)
	if err != nil {
		return err
	}
	m, err := memberParam(c)
	if err != nil {
		return err
	}
	paused := c.FormValue("paused") == "on"
	if err := h.Tenants.SetListMemberPaused(c.Request().Context(), request.IdentityOf(c).Scope, a, m, paused); err != nil {
		return request.Status(err)
	}
	msg := m.String() + " resumed."
	if paused {
		msg = m.String() + " paused."
	}
	return h.Done(c, msg, listHref(a.Domain.String(), string(a.Local)))
}
