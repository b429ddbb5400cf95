package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
)

// aliasRemove removes an alias, from a mailbox's page (…/mailboxes/:local/
// aliases/:alias/delete) or from the domain's alias list.
func (h handlers) aliasRemove(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	back := domainHref(name) + "/aliases"
	if c.Param("local") != "" {
		a, _, err := h.mailbox(c)
		if err != nil {
			return err
		}
		back = mailboxHref(a)
	}
	alias, err := web.LocalParam(c, "alias", name)
	if err != nil {
		return err
	}
	if err := h.Tenants.RemoveAlias(c.Request().Context(), web.IdentityOf(c).Scope, alias); err != nil {
		return web.Status(err)
	}
	return h.Done(c, "Alias "+alias.String()+" removed.", back)
}
