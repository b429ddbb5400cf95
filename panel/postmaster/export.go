package postmaster

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// export sends the domain's mailboxes as CSV in the import's format,
// without passwords, cells escaped against spreadsheet formulas.
func (h handlers) export(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.Tenants.ExportMailboxesCSV(c.Request().Context(), request.IdentityOf(c).Scope, name, &buf); err != nil {
		return request.Status(err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name.String()+`-mailboxes.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
