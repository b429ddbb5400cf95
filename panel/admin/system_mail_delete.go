package admin

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// systemMailDelete deletes a message of the system mailbox.
func (h handlers) systemMailDelete(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err := h.SystemMail.DeleteSystemMessage(c.Request().Context(), request.IdentityOf(c).Scope, id); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "Message deleted.", "/admin/system-mail")
}
