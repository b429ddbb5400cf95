package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants/address"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

func (h handlers) domainCreate(c echo.Context) error {
	id := request.IdentityOf(c)
	form := vadmin.NewDomainForm{Name: strings.TrimSpace(c.FormValue("name")), Description: c.FormValue("description")}
	d, err := address.ParseDomain(form.Name)
	if err == nil {
		_, err = h.Tenants.CreateDomain(c.Request().Context(), id.Scope, d, form.Description)
	} else {
		form.Errors = map[string]string{"name": err.Error()}
	}
	if err != nil {
		if form.Errors == nil {
			var ok bool
			if form.Errors, ok = request.FieldErrors(err); !ok {
				return request.Status(err)
			}
		}
		vm, lerr := h.domainsPage(c)
		if lerr != nil {
			return lerr
		}
		vm.New = form
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.Domains(vm))
	}
	return h.Done(c, "Domain "+d.String()+" added.", "/admin/domains/"+url.PathEscape(d.String()))
}
