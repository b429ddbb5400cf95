package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
)

// queueScope is the scope of a domain's queue pages, for the reachable
// :domain: a postmaster's own scope; an administrator's narrowed to that
// domain, so that they see what its postmaster sees. Narrowing never
// widens a scope: it is built from the signed-in one, with the domain
// that scope was just checked to reach. It returns the queue pages' base
// URL too.
func (h handlers) queueScope(c echo.Context) (tenants.Scope, *tenants.Domain, string, error) {
	d, name, err := h.domain(c)
	if err != nil {
		return tenants.Scope{}, nil, "", err
	}
	sc, err := request.IdentityOf(c).Scope.Narrow(d.ID)
	if err != nil {
		return tenants.Scope{}, nil, "", err
	}
	return sc, d, domainHref(name) + "/queue", nil
}
