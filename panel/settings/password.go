package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

// password changes the user's one password, after checking the current
// one.
func (h handlers) password(c echo.Context) error {
	id := web.IdentityOf(c)
	var errs map[string]string
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		errs = map[string]string{"password2": "the two passwords differ"}
	} else if err := h.Tenants.ChangeOwnPassword(c.Request().Context(), id.Self, c.FormValue("current_password"), pw); err != nil && !web.MergeErrors(&errs, err) {
		return web.Status(err)
	}
	if errs != nil {
		vm, err := h.page(c)
		if err != nil {
			return err
		}
		vm.Password.Errors = errs
		return web.Render(c, http.StatusUnprocessableEntity, vsettings.Settings(*vm))
	}
	return h.Done(c, "Your password is changed.", "/settings")
}
