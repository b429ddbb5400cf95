package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// importForm asks for a CSV file of mailboxes.
func (h handlers) importForm(c echo.Context) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vpm.Import(h.importPage(c, d.Name, domainHref(name))))
}

func (h handlers) importPage(c echo.Context, domain, base string) vpm.ImportPage {
	return vpm.ImportPage{Page: h.Page(c, "Import into "+domain), Domain: domain, Action: base + "/import", ConfirmAction: base + "/import/confirm"}
}
