package postmaster

import "github.com/labstack/echo/v4"

// queueRetry makes one of the domain's queued messages due now.
func (h handlers) queueRetry(c echo.Context) error {
	sc, _, base, err := h.queueScope(c)
	if err != nil {
		return err
	}
	return h.QueueRetry(c, sc, base)
}
