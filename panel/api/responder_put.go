package api

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// responderPut: PUT /domains/{domain}/mailboxes/{local_part}/responder
// {"enabled","subject","body","start","end"} with RFC 3339 dates;
// "enabled": false revokes it.
func (h handlers) responderPut(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b ResponderJSON
	if ok, err := decode(c, &b); !ok {
		return err
	}
	in := tenants.ResponderInput{Enabled: b.Enabled, Subject: b.Subject, Body: b.Body, IntervalDays: b.IntervalDays}
	var err error
	if in.StartsAt, err = parseTime("start", b.Start); err != nil {
		return failErr(c, err)
	}
	if in.EndsAt, err = parseEnd("end", b.End); err != nil {
		return failErr(c, err)
	}
	if err := h.Tenants.SetResponder(c.Request().Context(), scopeOf(c), a, in); err != nil {
		return failErr(c, err)
	}
	return h.responderGet(c)
}
