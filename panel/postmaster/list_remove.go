package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// listRemove removes a list with its members.
func (h handlers) listRemove(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	a, err := request.LocalParam(c, "list", name)
	if err != nil {
		return err
	}
	if err := h.Tenants.RemoveList(c.Request().Context(), request.IdentityOf(c).Scope, a); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "List "+a.String()+" removed.", domainHref(name)+"/lists")
}
