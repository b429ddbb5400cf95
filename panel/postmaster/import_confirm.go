package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// importConfirm writes a previewed file, kept on the server since the
// preview and named by the form's upload token: every mailbox or, when
// anything is wrong (the domain changed since the preview), none, showing
// the preview again with the problems. The file is parsed and checked
// again, in the import's one transaction.
func (h handlers) importConfirm(c echo.Context) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	vm, err := h.importPage(c, name)
	if err != nil {
		return err
	}
	token := c.FormValue("upload")
	u, ok, err := h.Imports.ImportUpload(c, token)
	if err != nil {
		return err
	}
	if !ok || u.Domain != name.String() {
		vm.Errors = map[string]string{"file": "this preview is no longer there (it lasts 30 minutes, and ends when you sign out); upload the file again"}
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Import(vm))
	}
	vm.Template = u.Template
	file, template, err := parseImport(vm.Template, u.CSV)
	if err == nil {
		rows := file.Rows
		plan, ierr := h.Tenants.Import(c.Request().Context(), request.IdentityOf(c).Scope, name, template, rows)
		if ierr == nil {
			if err := h.Imports.DropImport(c, token); err != nil {
				// Imported all the same; the file expires.
				h.Log.WarnContext(c.Request().Context(), "drop imported file", "err", err)
			}
			return h.Done(c, viewmodel.Count(int64(len(plan.Mailboxes)), "mailbox", "mailboxes")+" imported into "+d.Name+".", domainHref(name))
		}
		if _, ok := importProblems(ierr); !ok {
			err = ierr
		}
	}
	if err != nil && !request.MergeErrors(&vm.Errors, err) {
		return request.Status(err)
	}
	return h.showPreview(c, &vm, name, u.CSV, token)
}
