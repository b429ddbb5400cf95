package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// mailboxDelete: DELETE /domains/{domain}/mailboxes/{local_part}
func (h handlers) mailboxDelete(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Tenants.DeleteMailbox(c.Request().Context(), scopeOf(c), a); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
