package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// aliasList: GET /domains/{domain}/aliases[?search=&limit=&offset=]
func (h handlers) aliasList(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	limit, offset := paging(c)
	rows, total, err := h.Tenants.SearchAliases(c.Request().Context(), scopeOf(c), d, c.QueryParam("search"), limit, offset)
	if err != nil {
		return failErr(c, err)
	}
	out := make([]AliasJSON, 0, len(rows))
	for _, r := range rows {
		local, _, _ := strings.Cut(r.Address, "@")
		mb, _, _ := strings.Cut(r.Mailbox, "@")
		out = append(out, AliasJSON{Address: r.Address, LocalPart: local, Mailbox: mb})
	}
	return c.JSON(http.StatusOK, map[string]any{"aliases": out, "total": total})
}
