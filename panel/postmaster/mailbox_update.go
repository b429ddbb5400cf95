package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// mailboxUpdate saves a mailbox's settings.
func (h handlers) mailboxUpdate(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	id := request.IdentityOf(c)
	f, u, errs := settingsForm(c, id.IsAdmin())
	if errs == nil {
		if _, err := h.Tenants.UpdateMailbox(c.Request().Context(), id.Scope, a, u); err != nil && !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
	}
	if errs != nil {
		vm, err := h.mailboxPage(c, a, m)
		if err != nil {
			return err
		}
		f.Action, f.Errors = vm.Settings.Action, errs
		vm.Settings = f
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Mailbox(*vm))
	}
	return h.Done(c, "Settings of "+a.String()+" saved.", mailboxHref(a))
}
