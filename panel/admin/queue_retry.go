package admin

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
)

// queueRetry makes a queued message due now.
func (h handlers) queueRetry(c echo.Context) error {
	return h.QueueRetry(c, web.IdentityOf(c).Scope, "/admin/queue")
}
