package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/views"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// search finds domains, mailboxes and aliases across all domains.
func (h handlers) search(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	vm := vadmin.SearchPage{Page: h.Page(c, "Search"), Query: q}
	if q == "" {
		return request.Render(c, http.StatusOK, vadmin.Search(vm))
	}
	res, err := h.Tenants.Search(c.Request().Context(), request.IdentityOf(c).Scope, q, 50)
	if err != nil {
		ferrs, ok := request.FieldErrors(err)
		if !ok {
			return request.Status(err)
		}
		vm.Error = ferrs["q"] + ferrs[""]
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.Search(vm))
	}
	vm.Searched = true
	vm.DomainTotal = viewmodel.Num(res.DomainTotal)
	vm.MailboxTotal = viewmodel.Num(res.MailboxTotal)
	vm.AliasTotal = viewmodel.Num(res.AliasTotal)
	for _, d := range res.Domains {
		vm.Domains = append(vm.Domains, domainRow(d))
	}
	for _, m := range res.Mailboxes {
		vm.Mailboxes = append(vm.Mailboxes, views.MailboxRow{Address: m.Address, FullName: m.FullName, Href: viewmodel.MailboxHref(m.Domain, m.LocalPart)})
	}
	for _, a := range res.Aliases {
		local, _, _ := cutAt(a.Mailbox)
		vm.Aliases = append(vm.Aliases, vadmin.AliasRow{Address: a.Address, Mailbox: a.Mailbox, MailboxHref: viewmodel.MailboxHref(a.Domain, local)})
	}
	return request.Render(c, http.StatusOK, vadmin.Search(vm))
}
