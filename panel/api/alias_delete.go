package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// aliasDelete: DELETE /domains/{domain}/aliases/{local_part}
func (h handlers) aliasDelete(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Tenants.RemoveAlias(c.Request().Context(), scopeOf(c), a); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
