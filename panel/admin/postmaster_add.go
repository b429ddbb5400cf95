package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// postmasterAdd gives a mailbox of the domain the postmaster permission.
func (h handlers) postmasterAdd(c echo.Context) error {
	name, err := request.DomainParam(c)
	if err != nil {
		return err
	}
	local := strings.TrimSpace(c.FormValue("local_part"))
	if i := strings.LastIndexByte(local, '@'); i >= 0 && local[i+1:] == name.String() {
		local = local[:i]
	}
	err = h.setPostmaster(c, name, local, true)
	if err != nil {
		ferrs, ok := request.FieldErrors(err)
		if !ok {
			return request.Status(err)
		}
		vm, perr := h.domainPage(c, name)
		if perr != nil {
			return perr
		}
		vm.NewPostmaster, vm.PMErrors = local, ferrs
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.Domain(*vm))
	}
	return h.Done(c, local+"@"+name.String()+" is now a postmaster.", "/admin/domains/"+url.PathEscape(name.String()))
}

func (h handlers) setPostmaster(c echo.Context, d address.Domain, local string, on bool) error {
	lp, err := address.ParseLocalpart(local)
	if err != nil {
		return &tenants.ValidationError{Field: "local_part", Message: err.Error()}
	}
	_, err = h.Tenants.UpdateMailbox(c.Request().Context(), request.IdentityOf(c).Scope, address.Address{Local: lp, Domain: d}, tenants.MailboxUpdate{Postmaster: &on})
	if on && errors.Is(err, tenants.ErrNotFound) {
		return &tenants.ValidationError{Field: "local_part", Message: string(lp) + "@" + d.String() + " is not a mailbox"}
	}
	return err
}
