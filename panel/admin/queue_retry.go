package admin

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// queueRetry makes a queued message due now.
func (h handlers) queueRetry(c echo.Context) error {
	return h.QueueRetry(c, request.IdentityOf(c).Scope, "/admin/queue")
}
