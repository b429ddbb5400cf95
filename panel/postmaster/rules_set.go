package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// rulesSet sets the domain's rules for its users.
func (h handlers) rulesSet(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	r := tenants.DomainRules{RequireTwoFactor: c.FormValue("require_two_factor") == "on", UsersChangePassword: c.FormValue("users_change_password") == "on",
		UsersSetRetention: c.FormValue("users_set_retention") == "on"}
	ctx, sc := c.Request().Context(), request.IdentityOf(c).Scope
	rs, err := tenants.ParseRetention(c.FormValue("retention"))
	if err == nil {
		// Rules and message expiry in one transaction: all or nothing.
		r.Retention = &rs
		err = h.Tenants.SetDomainRules(ctx, sc, name, r)
	}
	if err != nil {
		var errs map[string]string
		if !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
		vm := h.rulesPage(c, name.String(), &r)
		vm.Errors, vm.Retention = errs, c.FormValue("retention")
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Rules(vm))
	}
	return h.Done(c, "The rules of "+name.String()+" are saved.", domainHref(name)+"/rules")
}
