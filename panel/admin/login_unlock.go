package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// loginUnlock lifts a login lock through tenants.Unlock, as `postdesk
// unlock` does: a login from every address, or from one address (and that
// address's own lock) when one is given.
func (h handlers) loginUnlock(c echo.Context) error {
	id := request.IdentityOf(c)
	form := vadmin.UnlockForm{Login: strings.TrimSpace(c.FormValue("login")), IP: strings.TrimSpace(c.FormValue("ip"))}
	err := h.Tenants.Unlock(c.Request().Context(), id.Scope, form.Login, form.IP)
	if err != nil {
		var ok bool
		if form.Errors, ok = request.FieldErrors(err); !ok {
			return request.Status(err)
		}
		vm, lerr := h.domainsPage(c)
		if lerr != nil {
			return lerr
		}
		vm.Unlock = form
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.Domains(vm))
	}
	what := form.Login
	switch {
	case form.Login == "":
		what = form.IP
	case form.IP != "":
		what += " from " + form.IP
	}
	return h.Done(c, "Login lock lifted: "+what+".", "/admin")
}
