package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// domainDelete: DELETE /domains/{domain}[?force=true] — admin keys only; a
// domain with mailboxes needs force.
func (h handlers) domainDelete(c echo.Context) error {
	if !scopeOf(c).AllDomains() {
		return failErr(c, tenants.ErrForbidden)
	}
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Tenants.DeleteDomain(c.Request().Context(), scopeOf(c), d, c.QueryParam("force") == "true"); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
