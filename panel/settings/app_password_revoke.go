package settings

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// appPasswordRevoke revokes one of the user's app passwords, by name.
func (h handlers) appPasswordRevoke(c echo.Context) error {
	id := request.IdentityOf(c)
	name := c.FormValue("name")
	if err := h.Tenants.RevokeAppPassword(c.Request().Context(), id.Self, id.Login.Address, name); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "The app password "+name+" is revoked.", "/settings")
}
