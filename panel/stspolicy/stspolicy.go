// Package stspolicy serves each hosted domain's own MTA-STS policy (RFC
// 8461 3.3) at https://mta-sts.DOMAIN/.well-known/mta-sts.txt, chosen by
// the request's Host, outside the panel's session and CSRF group: the
// askers are other mail servers.
package stspolicy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// Policies gives a hosted domain's policy (tenants.Service.MTASTSPolicy).
type Policies interface {
	MTASTSPolicy(ctx context.Context, d address.Domain, mailHost string) (string, error)
}

// Routes adds the policy route to e. mailHost is the host the domains'
// MX records name, as on their DNS pages.
func Routes(e *echo.Echo, policies Policies, mailHost string) {
	e.GET("/.well-known/mta-sts.txt", func(c echo.Context) error {
		host := c.Request().Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSuffix(host, ".")), "mta-sts.")
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		d, err := address.ParseDomain(rest)
		if err != nil {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		p, err := policies.MTASTSPolicy(c.Request().Context(), d, mailHost)
		if errors.Is(err, tenants.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(p))
	})
}
