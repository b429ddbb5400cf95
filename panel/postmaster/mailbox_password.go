package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
	"github.com/postdesk/postdesk/tenants"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// mailboxPassword sets a mailbox's password.
func (h handlers) mailboxPassword(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	var errs map[string]string
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		errs = map[string]string{"password2": "the two passwords differ"}
	} else if _, err := h.Tenants.UpdateMailbox(c.Request().Context(), web.IdentityOf(c).Scope, a, tenants.MailboxUpdate{Password: &pw}); err != nil && !web.MergeErrors(&errs, err) {
		return web.Status(err)
	}
	if errs != nil {
		vm, err := h.mailboxPage(c, a, m)
		if err != nil {
			return err
		}
		vm.Password.Errors = errs
		return web.Render(c, http.StatusUnprocessableEntity, vpm.Mailbox(*vm))
	}
	return h.Done(c, "Password of "+a.String()+" changed.", mailboxHref(a))
}
