package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
)

// mailboxList is the domain page: its mailboxes, searched, sorted and paged
// by the database.
func (h handlers) mailboxList(c echo.Context) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	base := domainHref(name)
	vm, err := h.MailboxList(c, request.IdentityOf(c).Scope, name, base)
	if err != nil {
		return request.Status(err)
	}
	vm.Page = h.Page(c, d.Name)
	vm.Heading = "Mailboxes of " + d.Name
	if d.AliasOfID == nil {
		vm.NewHref = base + "/mailboxes/new"
		vm.ImportHref = base + "/import"
	} else {
		vm.Heading = d.Name + " is an alias domain"
	}
	vm.ExportHref = base + "/export.csv"
	return request.Render(c, http.StatusOK, views.MailboxList(vm))
}
