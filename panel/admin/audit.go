package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// audit shows every recorded change.
func (h handlers) audit(c echo.Context) error {
	vm, err := h.AuditPage(c, request.IdentityOf(c).Scope, "", "/admin/audit")
	if err != nil {
		return request.Status(err)
	}
	vm.Page = h.Page(c, "Audit log")
	vm.Heading = "Audit log"
	return request.Render(c, http.StatusOK, views.Audit(vm))
}
