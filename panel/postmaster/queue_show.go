package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// queueShow shows one of the domain's queued messages.
func (h handlers) queueShow(c echo.Context) error {
	sc, _, base, err := h.queueScope(c)
	if err != nil {
		return err
	}
	vm, err := h.QueueShow(c, sc, base)
	if err != nil {
		return err
	}
	vm.Page = h.Page(c, vm.Heading)
	return request.Render(c, http.StatusOK, views.QueueMessage(vm))
}
