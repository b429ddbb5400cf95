package admin

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

func (h handlers) domainDelete(c echo.Context) error {
	name, err := request.DomainParam(c)
	if err != nil {
		return err
	}
	err = h.Tenants.DeleteDomain(c.Request().Context(), request.IdentityOf(c).Scope, name, c.FormValue("force") == "on")
	var ne *tenants.NotEmptyError
	if errors.As(err, &ne) {
		return h.Refused(c, "Not removed: "+ne.Error()+". To remove them with the domain, tick “Also remove its mailboxes, aliases and alias domains” and press Remove "+name.String()+" again.",
			"/admin/domains/"+url.PathEscape(name.String()))
	}
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
