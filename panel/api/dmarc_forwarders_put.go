package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// dmarcForwardersPut: PUT /domains/{domain}/dmarc/forwarders
// {"networks":[...]} replaces the forwarders the domain trusts: mail from
// them that fails its author's DMARC p=reject is filed into Junk.
func (h handlers) dmarcForwardersPut(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b DMARCForwardersJSON
	if ok, err := decode(c, &b); !ok {
		return err
	}
	// Each entry is one network: a comma or space inside one is an error,
	// not a second entry.
	for _, n := range b.Networks {
		if strings.ContainsAny(n, ", \t\r\n") {
			return failErr(c, &tenants.ValidationError{Field: "networks", Message: "one IP address or network (CIDR) per entry"})
		}
	}
	nets, err := tenants.ParseForwarders(strings.Join(b.Networks, ","))
	if err != nil {
		return failErr(c, err)
	}
	if err := h.Tenants.SetDMARCForwarders(c.Request().Context(), scopeOf(c), d, nets); err != nil {
		return failErr(c, err)
	}
	return h.dmarcForwardersGet(c)
}
