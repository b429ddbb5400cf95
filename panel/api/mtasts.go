package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// MTASTSJSON is the mode of a domain's own MTA-STS policy.
type MTASTSJSON struct {
	Mode string `json:"mode"`
}

// mtastsGet: GET /domains/{domain}/mta-sts
func (h handlers) mtastsGet(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	dom, err := h.Tenants.Domain(c.Request().Context(), scopeOf(c), d)
	if err != nil {
		return failErr(c, err)
	}
	mode := dom.MTASTSMode
	if mode == "" {
		mode = tenants.MTASTSNone
	}
	return c.JSON(http.StatusOK, MTASTSJSON{Mode: mode})
}

// mtastsPut: PUT /domains/{domain}/mta-sts {"mode":"enforce"}
func (h handlers) mtastsPut(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b MTASTSJSON
	if ok, err := decode(c, &b); !ok {
		return err
	}
	if err := h.Tenants.SetMTASTSMode(c.Request().Context(), scopeOf(c), d, b.Mode); err != nil {
		var ve *tenants.ValidationError
		if errors.As(err, &ve) {
			err = &tenants.ValidationError{Field: "mode", Message: ve.Message}
		}
		return failErr(c, err)
	}
	return h.mtastsGet(c)
}
