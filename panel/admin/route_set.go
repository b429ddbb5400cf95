package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// routeSet adds a route, or replaces the route of the same domain (an
// empty password keeps its stored one).
func (h handlers) routeSet(c echo.Context) error {
	vm, err := h.deliveryPage(c)
	if err != nil {
		return err
	}
	f, r, ferrs := routeForm(c)
	if ferrs == nil {
		err := h.Queue.SetRoute(c.Request().Context(), request.IdentityOf(c).Scope, r)
		if err != nil && !request.MergeErrors(&ferrs, err) {
			return request.Status(err)
		}
	}
	if ferrs != nil {
		f.Errors = ferrs
		vm.Route = f
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.Delivery(*vm))
	}
	return h.Done(c, "Route for "+r.Domain+" saved.", "/admin/delivery")
}
