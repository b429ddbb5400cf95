package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
)

// mailboxDelete removes a mailbox with its aliases, forwards and responder.
func (h handlers) mailboxDelete(c echo.Context) error {
	a, _, err := h.mailbox(c)
	if err != nil {
		return err
	}
	if err := h.Tenants.DeleteMailbox(c.Request().Context(), web.IdentityOf(c).Scope, a); err != nil {
		return web.Status(err)
	}
	return h.Done(c, "Mailbox "+a.String()+" removed.", domainHref(a.Domain))
}
