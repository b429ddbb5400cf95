package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

type aliasCreateBody struct {
	LocalPart string `json:"local_part"`
	Mailbox   string `json:"mailbox"`
}

// aliasCreate: POST /domains/{domain}/aliases {"local_part","mailbox"};
// mailbox is the local part of a mailbox of the same domain.
func (h handlers) aliasCreate(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b aliasCreateBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	lp, err := address.ParseLocalpart(b.LocalPart)
	if err != nil {
		return fail(c, http.StatusUnprocessableEntity, err.Error(), "local_part")
	}
	target := b.Mailbox
	if at := strings.LastIndexByte(target, '@'); at >= 0 && target[at+1:] == d.String() {
		target = target[:at]
	}
	mlp, err := address.ParseLocalpart(target)
	if err != nil {
		return fail(c, http.StatusUnprocessableEntity, err.Error(), "mailbox")
	}
	alias := address.Address{Local: lp, Domain: d}
	if err := h.Tenants.AddAlias(c.Request().Context(), scopeOf(c), alias, address.Address{Local: mlp, Domain: d}); err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusCreated, AliasJSON{Address: alias.String(), LocalPart: string(lp), Mailbox: string(mlp)})
}
