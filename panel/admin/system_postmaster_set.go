package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants/address"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// systemPostmasterSet names the system postmaster, or with an empty field
// clears it (its mail then goes to the system mailbox). tenants checks
// that the address is a mailbox or alias here and writes the audit log.
func (h handlers) systemPostmasterSet(c echo.Context) error {
	typed := strings.TrimSpace(c.FormValue("postmaster"))
	var a address.Address
	var ferrs map[string]string
	if typed != "" {
		var err error
		if a, err = address.ParseAddress(typed); err != nil {
			ferrs = map[string]string{"postmaster": err.Error()}
		}
	}
	if ferrs == nil {
		err := h.Tenants.SetSystemPostmaster(c.Request().Context(), request.IdentityOf(c).Scope, a)
		if err != nil && !request.MergeErrors(&ferrs, err) {
			return request.Status(err)
		}
	}
	if ferrs != nil {
		vm, err := h.systemMailPage(c)
		if err != nil {
			return err
		}
		vm.Postmaster, vm.Errors = typed, ferrs
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.SystemMail(*vm))
	}
	msg := "The system postmaster is " + a.String() + "."
	if a.IsZero() {
		msg = "No system postmaster is named: its mail goes to the system mailbox."
	}
	return h.Done(c, msg, "/admin/system-mail")
}
