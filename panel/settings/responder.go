package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

// responder sets or revokes the user's own autoresponder, when the mailbox
// may (tenants refuses otherwise).
func (h handlers) responder(c echo.Context) error {
	id := request.IdentityOf(c)
	f, in, ok := request.ResponderForm(c, "/settings/responder", id.CSRF)
	if ok {
		if err := h.Tenants.SetResponder(c.Request().Context(), id.Self, id.Login.Address, in); err != nil {
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
		if vm.Responder == nil {
			return echo.NewHTTPError(http.StatusForbidden)
		}
		f.Status = vm.Responder.Status
		vm.Responder = &f
		return request.Render(c, http.StatusUnprocessableEntity, vsettings.Settings(*vm))
	}
	msg := "Your autoresponder is off."
	if in.Enabled {
		msg = "Your autoresponder is set."
	}
	return h.Done(c, msg, "/settings")
}
