// Package settings is an end user's own settings in the panel: password,
// autoresponder and forwards as the mailbox's permissions allow. It acts
// with the mailbox's own Scope (Login.UserScope), also for postmasters.
package settings

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

type handlers struct{ *request.Env }

// Routes adds the settings routes to g (mounted at /settings, behind the
// signed-in mailbox check).
func Routes(g *echo.Group, env *request.Env) {
	h := handlers{env}
	g.GET("", h.show)
	g.POST("/password", h.password)
	g.POST("/responder", h.responder)
	g.POST("/forwards", h.forwards)
	g.POST("/app-passwords", h.appPasswordCreate)
	g.POST("/app-passwords/revoke", h.appPasswordRevoke)
	g.POST("/retention", h.retention)
	g.GET("/sessions", h.sessions)
	g.POST("/sessions/end", h.sessionEnd)
	g.POST("/sessions/end-mail", h.sessionsEndMail)

}
