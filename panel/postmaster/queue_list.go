package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// queueList shows the domain's queued messages and its recent failed
// deliveries.
func (h handlers) queueList(c echo.Context) error {
	sc, d, base, err := h.queueScope(c)
	if err != nil {
		return err
	}
	vm, err := h.QueueList(c, sc, base)
	if err != nil {
		return request.Status(err)
	}
	vm.Heading = "Outgoing queue of " + d.Name
	vm.Page = h.Page(c, vm.Heading)
	return request.Render(c, http.StatusOK, views.Queue(vm))
}
