package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// importForm asks for a CSV file of mailboxes.
func (h handlers) importForm(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	vm, err := h.importPage(c, name)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vpm.Import(vm))
}

// maxTemplateChoices bounds the template mailbox list: past it, the
// template is typed.
const maxTemplateChoices = 500

func (h handlers) importPage(c echo.Context, name address.Domain) (vpm.ImportPage, error) {
	base := domainHref(name)
	vm := vpm.ImportPage{Page: h.Page(c, "Import into "+name.String()), Domain: name.String(), Action: base + "/import", ConfirmAction: base + "/import/confirm"}
	rows, total, err := h.Tenants.Mailboxes(c.Request().Context(), request.IdentityOf(c).Scope,
		tenants.MailboxQuery{Domain: name, Limit: maxTemplateChoices})
	if err != nil {
		return vm, request.Status(err)
	}
	if total <= maxTemplateChoices {
		vm.TemplateChoices = make([]string, 0, len(rows))
		for _, m := range rows {
			vm.TemplateChoices = append(vm.TemplateChoices, m.LocalPart)
		}
	}
	return vm, nil
}
