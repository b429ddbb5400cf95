package postmaster

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// listExport sends a list's addresses as CSV.
func (h handlers) listExport(c echo.Context) error {
	a, err := h.listParam(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.Tenants.ExportListMembersCSV(c.Request().Context(), request.IdentityOf(c).Scope, a, &buf); err != nil {
		return request.Status(err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+string(a.Local)+"@"+a.Domain.String()+`-members.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
