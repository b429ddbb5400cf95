package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
	"github.com/postdesk/postdesk/views"
)

// queueReport sends the delivery failure report now, whatever its
// schedule.
func (h handlers) queueReport(c echo.Context) error {
	err := h.Queue.SendFailureReport(c.Request().Context(), web.IdentityOf(c).Scope)
	if err == nil {
		return h.Done(c, "The failure report was queued.", "/admin/queue")
	}
	ferrs, ok := web.FieldErrors(err)
	if !ok {
		return web.Status(err)
	}
	vm, perr := h.queuePage(c)
	if perr != nil {
		return perr
	}
	for _, msg := range ferrs {
		vm.Report.Error = msg
	}
	return web.Render(c, http.StatusUnprocessableEntity, views.Queue(*vm))
}
