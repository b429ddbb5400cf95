package postmaster

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// aliasCreate adds an alias from the domain's alias list: a name and the
// mailbox it delivers to, both in this domain. A refusal shows the list
// again with the reason at the field.
func (h handlers) aliasCreate(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	f := vpm.AliasAddForm{Alias: strings.TrimSpace(c.FormValue("alias")), Mailbox: strings.TrimSpace(c.FormValue("mailbox"))}
	errs := map[string]string{}
	alias, err := localIn(f.Alias, name)
	if err != nil {
		errs["local_part"] = err.Error()
	}
	target, err := localIn(f.Mailbox, name)
	if err != nil {
		errs["mailbox"] = err.Error()
	}
	if len(errs) == 0 {
		err := h.Tenants.AddAlias(c.Request().Context(), request.IdentityOf(c).Scope, alias, target)
		switch {
		case err == nil:
			return h.Done(c, "Alias "+alias.String()+" added: it delivers to "+target.String()+".", domainHref(name)+"/aliases")
		case errors.Is(err, tenants.ErrNotFound):
			errs["mailbox"] = "There is no mailbox " + target.String() + "."
		case !request.MergeErrors(&errs, err):
			return request.Status(err)
		}
	}
	vm, err := h.aliasesPage(c)
	if err != nil {
		return err
	}
	f.Action, f.Errors = vm.Add.Action, errs
	vm.Add = f
	return request.Render(c, http.StatusUnprocessableEntity, vpm.Aliases(*vm))
}

// localIn reads an address of domain d typed as "name" or "name@d".
func localIn(s string, d address.Domain) (address.Address, error) {
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		if s[at+1:] != d.String() {
			return address.Address{}, errors.New(s + ": it must be in the domain " + d.String())
		}
		s = s[:at]
	}
	if s == "" {
		return address.Address{}, errors.New("type a name")
	}
	lp, err := address.ParseLocalpart(s)
	if err != nil {
		return address.Address{}, err
	}
	return address.Address{Local: lp, Domain: d}, nil
}
