package request

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/views"
)

// AuditPage builds a page of the audit log: everything the scope reaches,
// or one domain's entries.
func (e *Env) AuditPage(c echo.Context, sc tenants.Scope, domain address.Domain, base string) (views.AuditPage, error) {
	page := PageNumber(c)
	rows, total, err := e.Tenants.AuditRecords(c.Request().Context(), sc, tenants.AuditQuery{Domain: domain, Limit: viewmodel.PageSize, Offset: (page - 1) * viewmodel.PageSize})
	if err != nil {
		return views.AuditPage{}, err
	}
	vm := views.AuditPage{ShowDomain: domain == "", Pager: viewmodel.MakePager(base, url.Values{}, page, total, "change", "changes")}
	for _, r := range rows {
		vm.Rows = append(vm.Rows, views.AuditRow{
			At: r.At.UTC().Format("2006-01-02 15:04:05"), Actor: r.Actor, RemoteAddr: r.RemoteAddr,
			Domain: r.Domain, Action: r.Action, Detail: r.Detail,
		})
	}
	return vm, nil
}
