package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// mtastsSet sets the mode of the domain's MTA-STS policy.
func (h handlers) mtastsSet(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	mode := c.FormValue("mode")
	if err := h.Tenants.SetMTASTSMode(c.Request().Context(), request.IdentityOf(c).Scope, name, mode); err != nil {
		errs, ok := request.FieldErrors(err)
		if !ok {
			return request.Status(err)
		}
		vm, perr := h.dnsPage(c)
		if perr != nil {
			return perr
		}
		vm.Error = views.Sentence(errs["mta_sts"] + errs[""])
		return request.Render(c, http.StatusUnprocessableEntity, vpm.DNS(*vm))
	}
	return h.Done(c, "MTA-STS mode of "+name.String()+" set to "+mode+". Publish the records below.", domainHref(name)+"/dns")
}
