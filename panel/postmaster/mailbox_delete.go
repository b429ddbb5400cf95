package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// mailboxDelete removes a mailbox with its aliases, forwards and responder.
func (h handlers) mailboxDelete(c echo.Context) error {
	a, _, err := h.mailbox(c)
	if err != nil {
		return err
	}
	if err := h.Tenants.DeleteMailbox(c.Request().Context(), request.IdentityOf(c).Scope, a); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "Mailbox "+a.String()+" removed.", domainHref(a.Domain))
}
