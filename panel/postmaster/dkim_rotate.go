package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// dkimRotate makes a new DKIM pair, which signs once DNS shows its records.
func (h handlers) dkimRotate(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	if _, err := h.Tenants.RotateDKIMKeys(c.Request().Context(), request.IdentityOf(c).Scope, name); err != nil {
		return h.dkimFailed(c, err)
	}
	return h.Done(c, "New DKIM keys made: publish their records below; mail is signed with them once DNS shows both.", domainHref(name)+"/dns")
}
