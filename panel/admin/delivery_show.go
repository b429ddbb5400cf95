package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// deliveryShow shows the Delivery Options and the routing table; ?route=
// fills the route form with that route, for a change.
func (h handlers) deliveryShow(c echo.Context) error {
	vm, err := h.deliveryPage(c)
	if err != nil {
		return err
	}
	if d := c.QueryParam("route"); d != "" {
		routes, err := h.Queue.Routes(c.Request().Context(), request.IdentityOf(c).Scope)
		if err != nil {
			return request.Status(err)
		}
		for i := range routes {
			if routes[i].Domain == d {
				vm.Route = routeView(&routes[i])
			}
		}
	}
	return request.Render(c, http.StatusOK, vadmin.Delivery(*vm))
}

// deliveryPage builds the page from the stored settings and routes;
// handlers that re-show a form with errors replace its parts.
func (h handlers) deliveryPage(c echo.Context) (*vadmin.DeliveryPage, error) {
	ctx := c.Request().Context()
	sc := request.IdentityOf(c).Scope
	s, err := h.Queue.DeliveryOptions(ctx, sc)
	if err != nil {
		return nil, request.Status(err)
	}
	routes, err := h.Queue.Routes(ctx, sc)
	if err != nil {
		return nil, request.Status(err)
	}
	vm := &vadmin.DeliveryPage{
		Page: h.Page(c, "Delivery Options"), Action: "/admin/delivery", Form: deliveryView(s),
		RouteAction: "/admin/delivery/routes", QueueHref: "/admin/queue",
	}
	for i := range routes {
		vm.Routes = append(vm.Routes, routeRow(&routes[i]))
	}
	return vm, nil
}
