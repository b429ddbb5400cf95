package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// dkimCreate: POST /domains/{domain}/dkim: the domain's first DKIM pair,
// signing at once (409 when it has keys: rotate them instead).
func (h handlers) dkimCreate(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	keys, err := h.Tenants.AddDKIMKeys(c.Request().Context(), scopeOf(c), d)
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusCreated, dkimJSON(keys))
}
