package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// dkimRotate: POST /domains/{domain}/dkim/rotate: a new DKIM pair, which
// signs once DNS shows its records (422 while another waits).
func (h handlers) dkimRotate(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	keys, err := h.Tenants.RotateDKIMKeys(c.Request().Context(), scopeOf(c), d)
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusCreated, dkimJSON(keys))
}
