package admin

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// routeDelete removes a destination domain's route.
func (h handlers) routeDelete(c echo.Context) error {
	domain, err := url.PathUnescape(c.Param("route"))
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err := h.Queue.DeleteRoute(c.Request().Context(), request.IdentityOf(c).Scope, domain); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "Route for "+domain+" removed.", "/admin/delivery")
}
