package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// queueShow shows a queued message and each recipient's state.
func (h handlers) queueShow(c echo.Context) error {
	vm, err := h.QueueShow(c, request.IdentityOf(c).Scope, "/admin/queue")
	if err != nil {
		return err
	}
	vm.Page = h.Page(c, vm.Heading)
	return request.Render(c, http.StatusOK, views.QueueMessage(vm))
}
