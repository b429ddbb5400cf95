package clientsetup

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants/address"
)

// Domains says which domains we serve (tenants.Service.ServesDomain).
type Domains interface {
	ServesDomain(ctx context.Context, d address.Domain) (bool, error)
}

type handlers struct {
	domains Domains
	servers Servers
	log     *slog.Logger
}

// Routes adds the client set-up routes to e, outside any session or CSRF
// middleware: mail clients post here without a panel session.
func Routes(e *echo.Echo, domains Domains, servers Servers, log *slog.Logger) {
	h := handlers{domains: domains, servers: servers, log: log}
	// Thunderbird: https://wiki.mozilla.org/Thunderbird:Autoconfiguration,
	// asked at autoconfig.DOMAIN/mail/... and DOMAIN/.well-known/....
	e.GET("/.well-known/autoconfig/mail/config-v1.1.xml", h.autoconfig)
	e.GET("/mail/config-v1.1.xml", h.autoconfig)
	// Outlook: [MS-OXDSCLI] POX requests, in either spelling clients use.
	e.POST("/autodiscover/autodiscover.xml", h.autodiscover)
	e.POST("/Autodiscover/Autodiscover.xml", h.autodiscover)
	// Outlook's JSON form ([MS-OXDISCO]) only points to the POX URL.
	e.GET("/autodiscover/autodiscover.json", h.autodiscoverJSON)
	e.GET("/autodiscover/autodiscover.json/v1.0/:address", h.autodiscoverJSON)
}

// served parses an address and reports whether its domain is ours; a
// malformed address is not served.
func (h handlers) served(ctx context.Context, addr string) (address.Address, bool, error) {
	a, err := address.ParseAddress(addr)
	if err != nil {
		return address.Address{}, false, nil
	}
	ok, err := h.domains.ServesDomain(ctx, a.Domain)
	return a, ok, err
}
