package postmaster

import (
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
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
	alias, err := request.LocalParam(c, "alias", name)
	if err != nil {
		return err
	}
	if err := h.Tenants.RemoveAlias(c.Request().Context(), request.IdentityOf(c).Scope, alias); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "Alias "+alias.String()+" removed.", back)
}
