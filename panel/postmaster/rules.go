package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// rulesShow is the domain's rules for its users.
func (h handlers) rulesShow(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	r, err := h.Tenants.DomainRules(c.Request().Context(), request.IdentityOf(c).Scope, name)
	if err != nil {
		return request.Status(err)
	}
	rs, err := h.Tenants.DomainRetention(c.Request().Context(), request.IdentityOf(c).Scope, name)
	if err != nil {
		return request.Status(err)
	}
	vm := h.rulesPage(c, name.String(), r)
	vm.Retention = tenants.FormatRetention(rs)
	return request.Render(c, http.StatusOK, vpm.Rules(vm))
}

func (h handlers) rulesPage(c echo.Context, domain string, r *tenants.DomainRules) vpm.RulesPage {
	return vpm.RulesPage{Page: h.Page(c, "Rules of "+domain), Domain: domain, Action: "/d/" + domain + "/rules",
		CSRFToken: request.IdentityOf(c).CSRF, RequireTwoFactor: r.RequireTwoFactor, UsersChangePassword: r.UsersChangePassword,
		UsersSetRetention: r.UsersSetRetention}
}
