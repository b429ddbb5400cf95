package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// forwardsSet replaces a mailbox's forwards and sets its store-mail switch.
func (h handlers) forwardsSet(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	id := request.IdentityOf(c)
	f, to, ok := request.ForwardsForm(c, mailboxHref(a)+"/forwards", id.CSRF)
	if ok {
		if err := h.Tenants.SetForwards(c.Request().Context(), id.Scope, a, to, f.StoreMail); err != nil {
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
		vm.Forwards = f
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Mailbox(*vm))
	}
	return h.Done(c, "Forwards of "+a.String()+" saved.", mailboxHref(a))
}
