package admin

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// queueDelete removes a message from the queue.
func (h handlers) queueDelete(c echo.Context) error {
	return h.QueueDelete(c, request.IdentityOf(c).Scope, "/admin/queue")
}
