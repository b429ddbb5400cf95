package postmaster

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// aliasList lists the domain's aliases and shows its catchrest.
func (h handlers) aliasList(c echo.Context) error {
	vm, err := h.aliasesPage(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vpm.Aliases(*vm))
}

func (h handlers) aliasesPage(c echo.Context) (*vpm.AliasesPage, error) {
	d, name, err := h.domain(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	sc := request.IdentityOf(c).Scope
	search := strings.TrimSpace(c.QueryParam("q"))
	page := request.PageNumber(c)
	rows, total, err := h.Tenants.SearchAliases(ctx, sc, name, search, viewmodel.PageSize, (page-1)*viewmodel.PageSize)
	if err != nil {
		return nil, request.Status(err)
	}
	cr, err := h.Tenants.DomainCatchrest(ctx, sc, name)
	if err != nil {
		return nil, request.Status(err)
	}
	base := domainHref(name) + "/aliases"
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	vm := &vpm.AliasesPage{
		Page: h.Page(c, "Aliases of "+d.Name), Domain: d.Name, Action: base, Search: search,
		Pager:     viewmodel.MakePager(base, q, page, total, "alias", "aliases"),
		Catchrest: vpm.CatchrestForm{Action: domainHref(name) + "/catchrest", Current: cr.Mailbox, IsMailbox: cr.IsMailbox},
		Add:       vpm.AliasAddForm{Action: base},
	}
	if cr.Mailbox != "" {
		vm.Catchrest.Mailbox, _, _ = cut(cr.Mailbox)
	}
	for _, r := range rows {
		local, _, _ := cut(r.Address)
		mlocal, _, _ := cut(r.Mailbox)
		vm.Rows = append(vm.Rows, vpm.AliasListRow{
			Address: r.Address, Mailbox: r.Mailbox, MailboxHref: viewmodel.MailboxHref(r.Domain, mlocal),
			RemoveAction: base + "/" + url.PathEscape(local) + "/delete",
		})
	}
	return vm, nil
}
