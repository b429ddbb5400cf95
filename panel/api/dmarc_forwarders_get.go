package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// DMARCForwardersJSON is the networks of the forwarders a domain trusts.
type DMARCForwardersJSON struct {
	Networks []string `json:"networks"`
}

// dmarcForwardersGet: GET /domains/{domain}/dmarc/forwarders
func (h handlers) dmarcForwardersGet(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	nets, err := h.Tenants.DMARCForwarders(c.Request().Context(), scopeOf(c), d)
	if err != nil {
		return failErr(c, err)
	}
	out := DMARCForwardersJSON{Networks: make([]string, len(nets))}
	for i, n := range nets {
		out.Networks[i] = n.String()
	}
	return c.JSON(http.StatusOK, out)
}
