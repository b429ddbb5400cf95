package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

func (h handlers) domainList(c echo.Context) error {
	vm, err := h.domainsPage(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vadmin.Domains(vm))
}

func (h handlers) domainsPage(c echo.Context) (vadmin.DomainsPage, error) {
	id := request.IdentityOf(c)
	search := strings.TrimSpace(c.QueryParam("q"))
	page := request.PageNumber(c)
	rows, total, err := h.Tenants.Domains(c.Request().Context(), id.Scope, tenants.DomainQuery{Search: search, Limit: viewmodel.PageSize, Offset: (page - 1) * viewmodel.PageSize})
	if err != nil {
		return vadmin.DomainsPage{}, err
	}
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	vm := vadmin.DomainsPage{Page: h.Page(c, "Domains"), Search: search, Pager: viewmodel.MakePager("/admin", q, page, total, "domain", "domains")}
	ids := make([]int64, len(rows))
	for i, d := range rows {
		ids[i] = d.ID
	}
	counts, err := h.Tenants.ContactCounts(c.Request().Context(), id.Scope, ids)
	if err != nil {
		return vadmin.DomainsPage{}, err
	}
	for _, d := range rows {
		r := domainRow(d)
		n := counts[d.ID]
		r.Contacts = viewmodel.Num(n.GAB) + " shared, " + viewmodel.Num(n.Personal) + " personal"
		vm.Rows = append(vm.Rows, r)
	}
	return vm, nil
}

func domainRow(d tenants.DomainInfo) vadmin.DomainRow {
	status := "active"
	if !d.Active {
		status = "disabled"
	}
	var limits []string
	if d.MaxMailboxes > 0 {
		limits = append(limits, viewmodel.Count(d.MaxMailboxes, "mailbox", "mailboxes"))
	}
	if d.MaxAliases > 0 {
		limits = append(limits, viewmodel.Count(d.MaxAliases, "alias", "aliases"))
	}
	if d.DefaultQuota > 0 {
		limits = append(limits, tenants.FormatSize(d.DefaultQuota)+" each")
	}
	return vadmin.DomainRow{
		Name: d.Name, Href: "/admin/domains/" + url.PathEscape(d.Name), Description: d.Description, Status: status,
		AliasOf: d.AliasOf, Postmasters: viewmodel.Num(d.Postmasters), Mailboxes: viewmodel.Num(d.Mailboxes),
		Aliases: viewmodel.Num(d.Aliases), Limits: strings.Join(limits, ", "),
	}
}
