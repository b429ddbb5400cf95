package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// mailboxList: GET /domains/{domain}/mailboxes[?search=&sort=&desc=true&limit=&offset=]
func (h handlers) mailboxList(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	limit, offset := paging(c)
	rows, total, err := h.Tenants.Mailboxes(c.Request().Context(), scopeOf(c), tenants.MailboxQuery{
		Domain: d, Search: c.QueryParam("search"), Sort: c.QueryParam("sort"), Desc: c.QueryParam("desc") == "true",
		Limit: limit, Offset: offset,
	})
	if err != nil {
		return failErr(c, err)
	}
	out := make([]MailboxJSON, 0, len(rows))
	for _, m := range rows {
		out = append(out, mailboxJSON(&m.Mailbox, m.Domain))
	}
	return c.JSON(http.StatusOK, map[string]any{"mailboxes": out, "total": total})
}
