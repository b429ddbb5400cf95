package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// forwardsPut: PUT /domains/{domain}/mailboxes/{local_part}/forwards
// {"addresses":[...],"store_mail":bool} replaces the forwards; store_mail
// left out means true.
func (h handlers) forwardsPut(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b ForwardsJSON
	if ok, err := decode(c, &b); !ok {
		return err
	}
	if len(b.Addresses) > tenants.MaxForwards {
		return fail(c, http.StatusUnprocessableEntity, fmt.Sprintf("at most %d forwards", tenants.MaxForwards), "addresses")
	}
	to := make([]address.Address, 0, len(b.Addresses))
	for _, s := range b.Addresses {
		t, err := address.ParseAddress(s)
		if err != nil {
			return fail(c, http.StatusUnprocessableEntity, err.Error(), "addresses")
		}
		to = append(to, t)
	}
	store := true
	if b.StoreMail != nil {
		store = *b.StoreMail
	}
	if err := h.Tenants.SetForwards(c.Request().Context(), scopeOf(c), a, to, store); err != nil {
		return failErr(c, err)
	}
	return h.forwardsGet(c)
}
