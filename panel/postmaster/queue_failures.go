package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// queueFailures pages through the domain's failed deliveries.
func (h handlers) queueFailures(c echo.Context) error {
	sc, d, base, err := h.queueScope(c)
	if err != nil {
		return err
	}
	vm, err := h.QueueFailures(c, sc, base)
	if err != nil {
		return request.Status(err)
	}
	vm.Heading = "Failed deliveries of " + d.Name
	vm.Page = h.Page(c, vm.Heading)
	return request.Render(c, http.StatusOK, views.Failures(vm))
}
