package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// maxMembersPerForm bounds the addresses one form adds.
const maxMembersPerForm = 1000

// listMembersAdd adds the addresses of the form, all or none.
func (h handlers) listMembersAdd(c echo.Context) error {
	a, err := h.listParam(c)
	if err != nil {
		return err
	}
	raw := c.FormValue("addresses")
	names := viewmodel.SplitList(raw)
	errs := map[string]string{}
	var addrs []address.Address
	switch {
	case len(names) == 0:
		errs["addresses"] = "type one or more addresses"
	case len(names) > maxMembersPerForm:
		errs["addresses"] = "at most 1000 addresses at a time"
	}
	for _, n := range names {
		if len(errs) > 0 {
			break
		}
		m, err := address.ParseAddress(n)
		if err != nil {
			errs["addresses"] = n + ": " + err.Error()
			break
		}
		addrs = append(addrs, m)
	}
	if len(errs) == 0 {
		err := h.Tenants.AddListMembers(c.Request().Context(), request.IdentityOf(c).Scope, a, addrs)
		if err == nil {
			return h.Done(c, viewmodel.Count(int64(len(addrs)), "address", "addresses")+" added.", listHref(a.Domain.String(), string(a.Local)))
		}
		fe, ok := request.FieldErrors(err)
		if !ok {
			return request.Status(err)
		}
		errs = fe
	}
	vm, err := h.listPage(c)
	if err != nil {
		return err
	}
	vm.NewMembers, vm.AddErrors = raw, errs
	return request.Render(c, http.StatusUnprocessableEntity, vpm.List(*vm))
}
