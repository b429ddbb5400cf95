// Package postmaster is a domain's area of the panel (/d/DOMAIN): the
// MailMax-style mailbox list, a mailbox's settings, aliases, forwards and
// responder, the catchrest account, the CSV import and export, the
// domain's audit log, its mailing lists and their members, its DNS records
// and DKIM keys, its global address book and the directory switches
// (contacts), and, when the panel has the outbound queue, the domain's
// queued messages and failed deliveries. A postmaster reaches their own
// domain only; a system administrator reaches every domain.
// Which domain is reachable is decided by the Scope of the signed-in
// identity, in tenants: the :domain of the URL only says which of the
// reachable ones is meant.
package postmaster

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

type handlers struct{ *request.Env }

// Routes adds a domain's routes to g (mounted at /d/:domain, behind the
// administrator-or-postmaster check).
func Routes(g *echo.Group, env *request.Env) {
	h := handlers{env}
	g.GET("", h.mailboxList)
	g.GET("/mailboxes/new", h.mailboxNew)
	g.POST("/mailboxes", h.mailboxCreate)
	g.GET("/mailboxes/:local", h.mailboxShow)
	g.POST("/mailboxes/:local", h.mailboxUpdate)
	g.POST("/mailboxes/:local/password", h.mailboxPassword)
	g.POST("/mailboxes/:local/delete", h.mailboxDelete)
	g.POST("/mailboxes/:local/aliases", h.aliasAdd)
	g.POST("/mailboxes/:local/aliases/:alias/delete", h.aliasRemove)
	g.POST("/mailboxes/:local/forwards", h.forwardsSet)
	g.POST("/mailboxes/:local/responder", h.responderSet)
	g.POST("/mailboxes/:local/leaver", h.leaver)
	g.GET("/aliases", h.aliasList)
	g.POST("/aliases", h.aliasCreate)
	g.POST("/aliases/:alias/delete", h.aliasRemove)
	g.POST("/catchrest", h.catchrestSet)
	g.GET("/import", h.importForm)
	g.POST("/import", h.importPreview)
	g.POST("/import/confirm", h.importConfirm)
	g.GET("/export.csv", h.export)
	g.GET("/audit", h.audit)
	g.GET("/lists", h.listIndex)
	g.POST("/lists", h.listCreate)
	g.GET("/lists/:list", h.listShow)
	g.GET("/lists/:list/members.csv", h.listExport)
	g.POST("/lists/:list/delete", h.listRemove)
	g.POST("/lists/:list/members", h.listMembersAdd)
	g.POST("/lists/:list/members/:member/delete", h.listMemberRemove)
	g.POST("/lists/:list/members/:member/pause", h.listMemberPause)
	if env.Moderation != nil {
		g.POST("/lists/:list/held/:id/:action", h.listHeldModerate)
	}
	g.GET("/dns", h.dnsShow)
	g.POST("/dkim", h.dkimAdd)
	g.POST("/dkim/rotate", h.dkimRotate)
	g.POST("/mta-sts", h.mtastsSet)
	g.GET("/contacts", h.contacts)
	g.POST("/contacts", h.gabAdd)
	g.POST("/contacts/delete", h.gabDelete)
	g.POST("/contacts/import", h.gabImport)
	g.GET("/contacts.vcf", h.gabExport)
	g.GET("/contacts.csv", h.gabExport)
	g.POST("/contacts/switches", h.contactSwitches)
	g.GET("/rules", h.rulesShow)
	g.POST("/rules", h.rulesSet)
	if env.Queue != nil {
		g.GET("/queue", h.queueList)
		g.GET("/queue/failures", h.queueFailures)
		g.GET("/queue/:id", h.queueShow)
		g.POST("/queue/:id/retry", h.queueRetry)
		g.POST("/queue/:id/delete", h.queueDelete)
	}
}

// domain returns the :domain of the URL when the signed-in scope reaches
// it, else "not found".
func (h handlers) domain(c echo.Context) (*tenants.Domain, address.Domain, error) {
	name, err := request.DomainParam(c)
	if err != nil {
		return nil, "", err
	}
	d, err := h.Tenants.Domain(c.Request().Context(), request.IdentityOf(c).Scope, name)
	if err != nil {
		return nil, "", request.Status(err)
	}
	return d, name, nil
}

// mailbox returns the :local mailbox of the reachable domain.
func (h handlers) mailbox(c echo.Context) (address.Address, *tenants.Mailbox, error) {
	_, name, err := h.domain(c)
	if err != nil {
		return address.Address{}, nil, err
	}
	a, err := request.LocalParam(c, "local", name)
	if err != nil {
		return address.Address{}, nil, err
	}
	m, err := h.Tenants.Mailbox(c.Request().Context(), request.IdentityOf(c).Scope, a)
	if err != nil {
		return address.Address{}, nil, request.Status(err)
	}
	return a, m, nil
}

func domainHref(d address.Domain) string { return "/d/" + url.PathEscape(d.String()) }

func mailboxHref(a address.Address) string {
	return viewmodel.MailboxHref(a.Domain.String(), string(a.Local))
}
