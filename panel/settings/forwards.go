package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

// forwards sets the user's own forwards, when the mailbox may (tenants
// refuses otherwise).
func (h handlers) forwards(c echo.Context) error {
	id := request.IdentityOf(c)
	f, to, ok := request.ForwardsForm(c, "/settings/forwards", id.CSRF)
	if ok {
		if err := h.Tenants.SetForwards(c.Request().Context(), id.Self, id.Login.Address, to, f.StoreMail); err != nil {
			if !request.MergeErrors(&f.Errors, err) {
				return request.Status(err)
			}
			ok = false
		}
	}
	if !ok {
		vm, err := h.page(c)
		if err != nil {
			return err
		}
		if vm.Forwards == nil {
			return echo.NewHTTPError(http.StatusForbidden)
		}
		vm.Forwards = &f
		return request.Render(c, http.StatusUnprocessableEntity, vsettings.Settings(*vm))
	}
	return h.Done(c, "Your forwards are saved.", "/settings")
}
