package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// responderGet: GET /domains/{domain}/mailboxes/{local_part}/responder
func (h handlers) responderGet(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	r, err := h.Tenants.Responder(c.Request().Context(), scopeOf(c), a)
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusOK, ResponderJSON{
		Enabled: r.Enabled, Subject: r.Subject, Body: r.Body,
		Start: timeString(r.StartsAt), End: timeString(r.EndsAt), IntervalDays: r.IntervalDays,
	})
}
