package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// queueFailures pages through every failed delivery.
func (h handlers) queueFailures(c echo.Context) error {
	vm, err := h.QueueFailures(c, request.IdentityOf(c).Scope, "/admin/queue")
	if err != nil {
		return request.Status(err)
	}
	vm.Heading = "Failed deliveries"
	vm.Page = h.Page(c, vm.Heading)
	return request.Render(c, http.StatusOK, views.Failures(vm))
}
