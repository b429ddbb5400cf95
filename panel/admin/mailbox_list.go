package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// mailboxList lists the mailboxes of every domain.
func (h handlers) mailboxList(c echo.Context) error {
	vm, err := h.MailboxList(c, request.IdentityOf(c).Scope, "", "/admin/mailboxes")
	if err != nil {
		return request.Status(err)
	}
	vm.Page = h.Page(c, "All mailboxes")
	vm.Heading = "All mailboxes"
	vm.ShowDomain = true
	return request.Render(c, http.StatusOK, views.MailboxList(vm))
}
