// Package admin is the system administrator's area of the panel: every
// domain with its limits and alias domains, every mailbox, postmasters,
// search across domains, the audit log, the system postmaster and the
// system mailbox, and, when the panel has the
// outbound queue, its Delivery Options, routing table and queue. A
// domain's own pages (mailboxes, aliases, import) are the postmaster
// package's, which administrators use for any domain.
package admin

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

type handlers struct{ *request.Env }

// Routes adds the administrator's routes to g (mounted at /admin, behind
// the administrator check).
func Routes(g *echo.Group, env *request.Env) {
	h := handlers{env}
	g.GET("", h.domainList)
	g.POST("/domains", h.domainCreate)
	g.GET("/domains/:domain", h.domainShow)
	g.POST("/domains/:domain", h.domainUpdate)
	g.POST("/domains/:domain/delete", h.domainDelete)
	g.POST("/domains/:domain/postmasters", h.postmasterAdd)
	g.POST("/domains/:domain/postmasters/:local/revoke", h.postmasterRevoke)
	g.GET("/mailboxes", h.mailboxList)
	g.GET("/search", h.search)
	g.GET("/audit", h.audit)
	g.POST("/unlock", h.loginUnlock)
	g.GET("/system-mail", h.systemMailList)
	g.POST("/system-mail/postmaster", h.systemPostmasterSet)
	if env.SystemMail != nil {
		g.GET("/system-mail/:id", h.systemMailShow)
		g.POST("/system-mail/:id/delete", h.systemMailDelete)
	}
	if env.Queue != nil {
		g.GET("/delivery", h.deliveryShow)
		g.POST("/delivery", h.deliveryUpdate)
		g.POST("/delivery/routes", h.routeSet)
		g.POST("/delivery/routes/:route/delete", h.routeDelete)
		g.GET("/queue", h.queueList)
		g.GET("/queue/failures", h.queueFailures)
		g.POST("/queue/report", h.queueReport)
		g.GET("/queue/:id", h.queueShow)
		g.POST("/queue/:id/retry", h.queueRetry)
		g.POST("/queue/:id/delete", h.queueDelete)
	}
}
