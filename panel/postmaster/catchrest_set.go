package postmaster

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// catchrestSet points the domain's catchrest at a mailbox, or removes it.
func (h handlers) catchrestSet(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("mailbox"))
	if at := strings.LastIndexByte(raw, '@'); at >= 0 && raw[at+1:] == name.String() {
		raw = raw[:at]
	}
	var errs map[string]string
	var lp address.Localpart
	if raw != "" {
		if lp, err = address.ParseLocalpart(raw); err != nil {
			errs = map[string]string{"mailbox": err.Error()}
		}
	}
	if errs == nil {
		if err := h.Tenants.SetCatchrest(c.Request().Context(), request.IdentityOf(c).Scope, name, lp); err != nil && !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
	}
	if errs != nil {
		vm, err := h.aliasesPage(c)
		if err != nil {
			return err
		}
		vm.Catchrest.Mailbox, vm.Catchrest.Errors = raw, errs
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Aliases(*vm))
	}
	msg := "Catchrest removed: mail for unknown addresses is refused."
	if raw != "" {
		msg = "Catchrest set: mail for unknown addresses goes to " + raw + "@" + name.String() + "."
	}
	return h.Done(c, msg, domainHref(name)+"/aliases")
}
