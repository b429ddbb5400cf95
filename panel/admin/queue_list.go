package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/views"
)

// queueList shows every queued message, the recent failed deliveries and
// the failure report's button.
func (h handlers) queueList(c echo.Context) error {
	vm, err := h.queuePage(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, views.Queue(*vm))
}

func (h handlers) queuePage(c echo.Context) (*views.QueuePage, error) {
	sc := request.IdentityOf(c).Scope
	vm, err := h.QueueList(c, sc, "/admin/queue")
	if err != nil {
		return nil, request.Status(err)
	}
	s, err := h.Queue.DeliveryOptions(c.Request().Context(), sc)
	if err != nil {
		return nil, request.Status(err)
	}
	vm.Page = h.Page(c, "Outgoing queue")
	vm.Heading = "Outgoing queue"
	vm.DeliveryHref = "/admin/delivery"
	vm.Report = &views.ReportBox{Action: "/admin/queue/report", Note: "No report address is set in the Delivery Options."}
	if s.ReportAddress != "" {
		vm.Report.Note = "Sent to " + s.ReportAddress + " every " + queueadmin.FormatDuration(s.ReportInterval) + " when deliveries failed."
	}
	return &vm, nil
}
