package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

func (h handlers) domainDelete(c echo.Context) error {
	name, err := request.DomainParam(c)
	if err != nil {
		return err
	}
	err = h.Tenants.DeleteDomain(c.Request().Context(), request.IdentityOf(c).Scope, name, c.FormValue("force") == "on")
	if err != nil {
		ferrs, ok := request.FieldErrors(err)
		if !ok {
			return request.Status(err)
		}
		vm, perr := h.domainPage(c, name)
		if perr != nil {
			return perr
		}
		vm.DeleteErrors = ferrs
		return request.Render(c, http.StatusConflict, vadmin.Domain(*vm))
	}
	return h.Done(c, "Domain "+name.String()+" removed.", "/admin")
}
