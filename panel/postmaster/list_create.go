package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// listCreate makes a list; a refusal shows the form again with its reason.
func (h handlers) listCreate(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	form := vpm.ListForm{LocalPart: c.FormValue("local_part"), Kind: c.FormValue("kind"), Owners: c.FormValue("owners"),
		NonMembers: c.FormValue("non_members")}
	errs := map[string]string{}
	lp, err := address.ParseLocalpart(form.LocalPart)
	if err != nil {
		errs["local_part"] = err.Error()
	}
	var owners []address.Address
	for _, o := range viewmodel.SplitList(form.Owners) {
		a, err := address.ParseAddress(o)
		if err != nil {
			errs["owners"] = o + ": " + err.Error()
			break
		}
		owners = append(owners, a)
	}
	if len(errs) == 0 {
		in := tenants.ListInput{Address: address.Address{Local: lp, Domain: name}, Kind: form.Kind, Owners: owners, BounceThreshold: -1, NonMembers: form.NonMembers}
		_, err := h.Tenants.CreateList(c.Request().Context(), request.IdentityOf(c).Scope, in)
		if err == nil {
			return h.Done(c, "List "+string(lp)+"@"+name.String()+" made.", listHref(name.String(), string(lp)))
		}
		fe, ok := request.FieldErrors(err)
		if !ok {
			return request.Status(err)
		}
		errs = fe
	}
	vm, err := h.listsPage(c)
	if err != nil {
		return err
	}
	form.Action, form.Errors = vm.New.Action, errs
	vm.New = form
	return request.Render(c, http.StatusUnprocessableEntity, vpm.Lists(*vm))
}
