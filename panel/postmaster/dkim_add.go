package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// dkimAdd makes the domain's first DKIM keys, which sign at once.
func (h handlers) dkimAdd(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	if _, err := h.Tenants.AddDKIMKeys(c.Request().Context(), request.IdentityOf(c).Scope, name); err != nil {
		return h.dkimFailed(c, err)
	}
	return h.Done(c, "DKIM keys made: mail from "+name.String()+" is signed from now on. Publish their records below.", domainHref(name)+"/dns")
}

// dkimFailed re-renders the DNS page with what the user can fix, or
// returns the error for the error page.
func (h handlers) dkimFailed(c echo.Context, err error) error {
	errs, ok := request.FieldErrors(err)
	if !ok {
		return request.Status(err)
	}
	vm, perr := h.dnsPage(c)
	if perr != nil {
		return perr
	}
	vm.Error = errs[""]
	return request.Render(c, http.StatusUnprocessableEntity, vpm.DNS(*vm))
}
