package api

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/queueadmin"
)

// The routing table and the Delivery Options under the API: the queue's
// calls, which check an administrator's key and validate as the panel's
// page does. Present only when the panel has the outbound queue.

// RelayJSON is a route's or the smart host's host. Password is write-only:
// it is never returned, has_password says whether one is stored; on a
// change an absent or empty password keeps the stored one, and an empty
// username drops both.
type RelayJSON struct {
	Host        string `json:"host"`
	Port        int    `json:"port,omitempty"`
	TLS         bool   `json:"tls"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
	HasPassword bool   `json:"has_password"`
}

// RouteJSON is one row of the routing table.
type RouteJSON struct {
	Domain string `json:"domain"`
	RelayJSON
}

func relayJSON(r queueadmin.Relay) RelayJSON {
	return RelayJSON{Host: r.Host, Port: r.Port, TLS: r.ImplicitTLS, Username: r.Username, HasPassword: r.HasPassword}
}

func (r RelayJSON) relay() queueadmin.Relay {
	return queueadmin.Relay{Host: r.Host, Port: r.Port, ImplicitTLS: r.TLS, Username: r.Username, Password: r.Password}
}

// routeList: GET /routes.
func (h handlers) routeList(c echo.Context) error {
	routes, err := h.Queue.Routes(c.Request().Context(), scopeOf(c))
	if err != nil {
		return failErr(c, err)
	}
	out := make([]RouteJSON, 0, len(routes))
	for _, r := range routes {
		out = append(out, RouteJSON{Domain: r.Domain, RelayJSON: relayJSON(r.Relay)})
	}
	return c.JSON(http.StatusOK, out)
}

// routePut: PUT /routes/{domain} {"host":...,"port":...} adds the route of
// a destination domain or replaces it.
func (h handlers) routePut(c echo.Context) error {
	var b struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		TLS      bool   `json:"tls"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if ok, err := decode(c, &b); !ok {
		return err
	}
	raw, err := url.PathUnescape(c.Param("domain"))
	if err != nil {
		return failErr(c, tenants.ErrNotFound)
	}
	r := queueadmin.Route{Domain: raw, Relay: RelayJSON{Host: b.Host, Port: b.Port, TLS: b.TLS, Username: b.Username, Password: b.Password}.relay()}
	ctx := c.Request().Context()
	if err := h.Queue.SetRoute(ctx, scopeOf(c), r); err != nil {
		return failErr(c, err)
	}
	routes, err := h.Queue.Routes(ctx, scopeOf(c))
	if err != nil {
		return failErr(c, err)
	}
	for _, got := range routes {
		if d, err := address.ParseDomain(raw); err == nil && got.Domain == d.String() {
			return c.JSON(http.StatusOK, RouteJSON{Domain: got.Domain, RelayJSON: relayJSON(got.Relay)})
		}
	}
	return failErr(c, tenants.ErrNotFound)
}

// routeDelete: DELETE /routes/{domain}.
func (h handlers) routeDelete(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Queue.DeleteRoute(c.Request().Context(), scopeOf(c), d.String()); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
