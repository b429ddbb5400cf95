package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// queueReport sends the delivery failure report now, whatever its
// schedule.
func (h handlers) queueReport(c echo.Context) error {
	err := h.Queue.SendFailureReport(c.Request().Context(), request.IdentityOf(c).Scope)
	if err == nil {
		return h.Done(c, "The failure report was queued.", "/admin/queue")
	}
	ferrs, ok := request.FieldErrors(err)
	if !ok {
		return request.Status(err)
	}
	vm, perr := h.queuePage(c)
	if perr != nil {
		return perr
	}
	for _, msg := range ferrs {
		vm.Report.Error = msg
	}
	return request.Render(c, http.StatusUnprocessableEntity, views.Queue(*vm))
}
