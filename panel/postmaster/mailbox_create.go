package postmaster

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

func (h handlers) mailboxCreate(c echo.Context) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	id := request.IdentityOf(c)
	f, u, errs := settingsForm(c, id.IsAdmin())
	f.New, f.Action = true, domainHref(name)+"/mailboxes"
	f.LocalPart = strings.TrimSpace(c.FormValue("local_part"))
	var a address.Address
	if lp, err := address.ParseLocalpart(f.LocalPart); err != nil {
		errs = addErr(errs, "local_part", err.Error())
	} else {
		a = address.Address{Local: lp, Domain: name}
	}
	if errs == nil {
		_, err = h.Tenants.CreateMailbox(c.Request().Context(), id.Scope, tenants.NewMailbox{
			Address: a, Password: c.FormValue("password"), FullName: f.FullName, Settings: settingsOf(u),
		})
		if err != nil && !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
	}
	if errs != nil {
		f.Errors = errs
		vm := vpm.MailboxNewPage{Page: h.Page(c, "Add mailbox"), Domain: d.Name, BackHref: domainHref(name), Form: f}
		return request.Render(c, http.StatusUnprocessableEntity, vpm.MailboxNew(vm))
	}
	return h.Done(c, "Mailbox "+a.String()+" added.", mailboxHref(a))
}

func addErr(m map[string]string, field, msg string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[field] = msg
	return m
}
