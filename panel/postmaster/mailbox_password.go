package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// mailboxPassword sets a mailbox's password, which ends every session
// signed in to it. A postmaster who sets their own this way stays signed
// in here, with a fresh session.
func (h handlers) mailboxPassword(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	id := request.IdentityOf(c)
	var errs map[string]string
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		errs = map[string]string{"password2": "the two passwords differ"}
	} else if changed, err := h.Tenants.UpdateMailbox(c.Request().Context(), id.Scope, a, tenants.MailboxUpdate{Password: &pw}); err != nil {
		if !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
	} else if id.Login.Mailbox != nil && id.Login.Mailbox.ID == changed.ID {
		l := *id.Login
		l.Mailbox = changed
		if err := h.Sessions.RenewSession(c, &l); err != nil {
			return err
		}
	}
	if errs != nil {
		vm, err := h.mailboxPage(c, a, m)
		if err != nil {
			return err
		}
		vm.Password.Errors = errs
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Mailbox(*vm))
	}
	return h.Done(c, "Password of "+a.String()+" changed.", mailboxHref(a))
}
