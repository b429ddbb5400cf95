package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// forwardsGet: GET /domains/{domain}/mailboxes/{local_part}/forwards
func (h handlers) forwardsGet(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	list, store, err := h.Tenants.Forwards(c.Request().Context(), scopeOf(c), a)
	if err != nil {
		return failErr(c, err)
	}
	if list == nil {
		list = []string{}
	}
	return c.JSON(http.StatusOK, ForwardsJSON{Addresses: list, StoreMail: &store})
}
