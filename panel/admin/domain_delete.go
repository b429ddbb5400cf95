package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

func (h handlers) domainDelete(c echo.Context) error {
	name, err := web.DomainParam(c)
	if err != nil {
		return err
	}
	err = h.Tenants.DeleteDomain(c.Request().Context(), web.IdentityOf(c).Scope, name, c.FormValue("force") == "on")
	if err != nil {
		ferrs, ok := web.FieldErrors(err)
		if !ok {
			return web.Status(err)
		}
		vm, perr := h.domainPage(c, name)
		if perr != nil {
			return perr
		}
		vm.DeleteErrors = ferrs
		return web.Render(c, http.StatusConflict, vadmin.Domain(*vm))
	}
	return h.Done(c, "Domain "+name.String()+" removed.", "/admin")
}
