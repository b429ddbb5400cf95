package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

// retention sets the user's own message expiry per folder, when the
// domain lets its users.
func (h handlers) retention(c echo.Context) error {
	id := request.IdentityOf(c)
	rs, err := tenants.ParseRetention(c.FormValue("retention"))
	if err == nil {
		err = h.Tenants.SetMailboxRetention(c.Request().Context(), id.Self, id.Login.Address, rs)
	}
	if err != nil {
		var errs map[string]string
		if !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
		vm, perr := h.page(c)
		if perr != nil {
			return perr
		}
		vm.Retention.Errors, vm.Retention.Own = errs, c.FormValue("retention")
		return request.Render(c, http.StatusUnprocessableEntity, vsettings.Settings(*vm))
	}
	return h.Done(c, "Your message expiry is saved.", "/settings")
}
