package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

type domainCreateBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// domainCreate: POST /domains {"name"} — admin keys only.
func (h handlers) domainCreate(c echo.Context) error {
	if !scopeOf(c).AllDomains() {
		return failErr(c, tenants.ErrForbidden)
	}
	var b domainCreateBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	name, err := address.ParseDomain(b.Name)
	if err != nil {
		return fail(c, http.StatusUnprocessableEntity, err.Error(), "name")
	}
	ctx := c.Request().Context()
	if _, err := h.Tenants.CreateDomain(ctx, scopeOf(c), name, b.Description); err != nil {
		return failErr(c, err)
	}
	return h.writeDomain(c, http.StatusCreated, name)
}

func (h handlers) writeDomain(c echo.Context, status int, name address.Domain) error {
	rows, _, err := h.Tenants.Domains(c.Request().Context(), scopeOf(c), tenants.DomainQuery{Search: name.String(), Limit: 1000})
	if err != nil {
		return failErr(c, err)
	}
	for _, d := range rows {
		if d.Name == name.String() {
			return c.JSON(status, domainJSON(d))
		}
	}
	return failErr(c, tenants.ErrNotFound)
}
