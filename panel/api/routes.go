// Package api is the provisioning API under /api/v1: JSON over the same
// tenants calls as the panel, for hosting providers' scripts. It takes
// bearer API keys only (postdesk apikey create), never the panel's cookie,
// so it needs no CSRF token. A domain key's Scope reaches its domain only;
// an admin key's every domain. Errors are {"error": "...", "field": "..."}.
package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

//go:embed openapi.json
var openAPI []byte

type handlers struct{ *request.Env }

// Routes adds the API's routes to g (mounted at /api/v1).
func Routes(g *echo.Group, env *request.Env) {
	h := handlers{env}
	g.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", openAPI)
	})
	a := g.Group("", h.auth)
	a.GET("/domains", h.domainList)
	a.POST("/domains", h.domainCreate)
	a.PATCH("/domains/:domain", h.domainUpdate)
	a.DELETE("/domains/:domain", h.domainDelete)
	a.GET("/domains/:domain/mailboxes", h.mailboxList)
	a.POST("/domains/:domain/mailboxes", h.mailboxCreate)
	a.GET("/domains/:domain/mailboxes/:local", h.mailboxGet)
	a.PATCH("/domains/:domain/mailboxes/:local", h.mailboxUpdate)
	a.DELETE("/domains/:domain/mailboxes/:local", h.mailboxDelete)
	a.GET("/domains/:domain/aliases", h.aliasList)
	a.POST("/domains/:domain/aliases", h.aliasCreate)
	a.DELETE("/domains/:domain/aliases/:local", h.aliasDelete)
	a.GET("/domains/:domain/mailboxes/:local/forwards", h.forwardsGet)
	a.PUT("/domains/:domain/mailboxes/:local/forwards", h.forwardsPut)
	a.GET("/domains/:domain/mailboxes/:local/responder", h.responderGet)
	a.PUT("/domains/:domain/mailboxes/:local/responder", h.responderPut)
	a.GET("/domains/:domain/lists", h.listList)
	a.POST("/domains/:domain/lists", h.listCreate)
	a.DELETE("/domains/:domain/lists/:list", h.listDelete)
	a.GET("/domains/:domain/lists/:list/members", h.listMemberList)
	a.POST("/domains/:domain/lists/:list/members", h.listMemberAdd)
	a.DELETE("/domains/:domain/lists/:list/members/:member", h.listMemberDelete)
	a.GET("/domains/:domain/dkim", h.dkimList)
	a.POST("/domains/:domain/dkim", h.dkimCreate)
	a.POST("/domains/:domain/dkim/rotate", h.dkimRotate)
	a.GET("/domains/:domain/dmarc/forwarders", h.dmarcForwardersGet)
	a.PUT("/domains/:domain/dmarc/forwarders", h.dmarcForwardersPut)
	a.GET("/domains/:domain/mta-sts", h.mtastsGet)
	a.PUT("/domains/:domain/mta-sts", h.mtastsPut)
	a.GET("/domains/:domain/contacts", h.contactList)
	a.POST("/domains/:domain/contacts", h.contactPut)
	a.DELETE("/domains/:domain/contacts/:uid", h.contactDelete)
	a.GET("/domains/:domain/mailboxes/:local/app-passwords", h.appPasswordList)
	a.POST("/domains/:domain/mailboxes/:local/app-passwords", h.appPasswordCreate)
	a.DELETE("/domains/:domain/mailboxes/:local/app-passwords/:name", h.appPasswordDelete)
	if env.Queue != nil {
		a.GET("/routes", h.routeList)
		a.PUT("/routes/:domain", h.routePut)
		a.DELETE("/routes/:domain", h.routeDelete)
		a.GET("/delivery", h.deliveryGet)
		a.PATCH("/delivery", h.deliveryPatch)
	}
}
