package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// responderSet sets, or with "enabled" unticked revokes, a mailbox's
// autoresponder.
func (h handlers) responderSet(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	id := request.IdentityOf(c)
	f, in, ok := request.ResponderForm(c, mailboxHref(a)+"/responder", id.CSRF)
	if ok {
		if err := h.Tenants.SetResponder(c.Request().Context(), id.Scope, a, in); err != nil {
			if !request.MergeErrors(&f.Errors, err) {
				return request.Status(err)
			}
			ok = false
		}
	}
	if !ok {
		vm, err := h.mailboxPage(c, a, m)
		if err != nil {
			return err
		}
		f.Status = vm.Responder.Status
		vm.Responder = f
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Mailbox(*vm))
	}
	msg := "Responder of " + a.String() + " is off."
	if in.Enabled {
		msg = "Responder of " + a.String() + " is set."
	}
	return h.Done(c, msg, mailboxHref(a))
}
