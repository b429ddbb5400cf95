package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// audit shows the domain's recorded changes.
func (h handlers) audit(c echo.Context) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	vm, err := h.AuditPage(c, request.IdentityOf(c).Scope, name, domainHref(name)+"/audit")
	if err != nil {
		return request.Status(err)
	}
	vm.Page = h.Page(c, "Audit log of "+d.Name)
	vm.Heading = "Audit log of " + d.Name
	return request.Render(c, http.StatusOK, views.Audit(vm))
}
