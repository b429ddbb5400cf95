package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// domainList: GET /domains — the domains the key reaches.
func (h handlers) domainList(c echo.Context) error {
	limit, offset := paging(c)
	rows, total, err := h.Tenants.Domains(c.Request().Context(), scopeOf(c), tenants.DomainQuery{Search: c.QueryParam("search"), Limit: limit, Offset: offset})
	if err != nil {
		return failErr(c, err)
	}
	out := make([]DomainJSON, 0, len(rows))
	for _, d := range rows {
		out = append(out, domainJSON(d))
	}
	return c.JSON(http.StatusOK, map[string]any{"domains": out, "total": total})
}

// paging reads ?limit= (1-1000, default 100) and ?offset=.
func paging(c echo.Context) (int, int) {
	limit, err := strconv.Atoi(c.QueryParam("limit"))
	if err != nil || limit < 1 || limit > 1000 {
		limit = 100
	}
	offset, err := strconv.Atoi(c.QueryParam("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	return limit, offset
}
