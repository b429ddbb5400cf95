package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// dkimList: GET /domains/{domain}/dkim: the domain's DKIM keys and the
// records to publish.
func (h handlers) dkimList(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	keys, err := h.Tenants.DKIMKeys(c.Request().Context(), scopeOf(c), d)
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusOK, dkimJSON(keys))
}
