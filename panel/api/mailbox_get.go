package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// mailboxGet: GET /domains/{domain}/mailboxes/{local_part}, with its
// aliases.
func (h handlers) mailboxGet(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	ctx := c.Request().Context()
	m, err := h.Tenants.Mailbox(ctx, scopeOf(c), a)
	if err != nil {
		return failErr(c, err)
	}
	aliases, err := h.Tenants.Aliases(ctx, scopeOf(c), a.Domain, a)
	if err != nil {
		return failErr(c, err)
	}
	out := mailboxJSON(m, a.Domain.String())
	out.Aliases = []string{}
	for _, al := range aliases {
		out.Aliases = append(out.Aliases, al.Address)
	}
	return c.JSON(http.StatusOK, out)
}
