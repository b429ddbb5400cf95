package admin

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// postmasterRevoke takes the postmaster permission from a mailbox.
func (h handlers) postmasterRevoke(c echo.Context) error {
	name, err := request.DomainParam(c)
	if err != nil {
		return err
	}
	a, err := request.LocalParam(c, "local", name)
	if err != nil {
		return err
	}
	if err := h.setPostmaster(c, name, string(a.Local), false); err != nil {
		return request.Status(err)
	}
	return h.Done(c, a.String()+" is no longer a postmaster.", "/admin/domains/"+url.PathEscape(name.String()))
}
