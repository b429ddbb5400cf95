package postmaster

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
)

// importConfirm writes a previewed file: every mailbox or, when anything
// is wrong (the domain changed since the preview), none, showing the
// preview again with the problems.
func (h handlers) importConfirm(c echo.Context) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	vm := h.importPage(c, d.Name, domainHref(name))
	vm.Template = strings.TrimSpace(c.FormValue("template"))
	data := c.FormValue("csv")
	rows, template, err := parseImport(vm.Template, data)
	if err == nil {
		plan, ierr := h.Tenants.Import(c.Request().Context(), web.IdentityOf(c).Scope, name, template, rows)
		if ierr == nil {
			return h.Done(c, web.Count(int64(len(plan.Mailboxes)), "mailbox", "mailboxes")+" imported into "+d.Name+".", domainHref(name))
		}
		if _, ok := importProblems(ierr); !ok {
			err = ierr
		}
	}
	if err != nil && !web.MergeErrors(&vm.Errors, err) {
		return web.Status(err)
	}
	return h.showPreview(c, &vm, name, data)
}
