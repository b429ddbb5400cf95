package postmaster

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants/address"
)

// memberParam is the :member address of a list's URL.
func memberParam(c echo.Context) (address.Address, error) {
	raw, err := url.PathUnescape(c.Param("member"))
	if err != nil {
		return address.Address{}, request.Status(err)
	}
	a, err := address.ParseAddress(raw)
	if err != nil {
		return address.Address{}, echo.ErrNotFound
	}
	return a, nil
}

// listMemberRemove ends a membership.
func (h handlers) listMemberRemove(c echo.Context) error {
	a, err := h.listParam(c)
	if err != nil {
		return err
	}
	m, err := memberParam(c)
	if err != nil {
		return err
	}
	if err := h.Tenants.RemoveListMembers(c.Request().Context(), request.IdentityOf(c).Scope, a, []address.Address{m}); err != nil {
		return request.Status(err)
	}
	return h.Done(c, m.String()+" removed from "+a.String()+".", listHref(a.Domain.String(), string(a.Local)))
}
