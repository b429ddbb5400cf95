package postmaster

import "github.com/labstack/echo/v4"

// queueDelete removes one of the domain's messages from the queue.
func (h handlers) queueDelete(c echo.Context) error {
	sc, _, base, err := h.queueScope(c)
	if err != nil {
		return err
	}
	return h.QueueDelete(c, sc, base)
}
