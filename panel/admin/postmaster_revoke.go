package admin

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
)

// postmasterRevoke takes the postmaster permission from a mailbox.
func (h handlers) postmasterRevoke(c echo.Context) error {
	name, err := web.DomainParam(c)
	if err != nil {
		return err
	}
	a, err := web.LocalParam(c, "local", name)
	if err != nil {
		return err
	}
	if err := h.setPostmaster(c, name, string(a.Local), false); err != nil {
		return web.Status(err)
	}
	return h.Done(c, a.String()+" is no longer a postmaster.", "/admin/domains/"+url.PathEscape(name.String()))
}
