package postmaster

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// aliasAdd adds one or more aliases to a mailbox. Each is its own change:
// the ones before a refused one stay, and the message names the refused
// one and, in the same domain, what holds it.
func (h handlers) aliasAdd(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	raw := c.FormValue("aliases")
	names := viewmodel.SplitList(raw)
	var errs map[string]string
	if len(names) == 0 {
		errs = map[string]string{"local_part": "type one or more alias names"}
	}
	added := 0
	for i, n := range names {
		alias, err := localIn(n, a.Domain)
		if err != nil {
			errs = map[string]string{"local_part": err.Error()}
		} else if err := h.Tenants.AddAlias(c.Request().Context(), request.IdentityOf(c).Scope, alias, a); err != nil {
			if !request.MergeErrors(&errs, err) {
				return request.Status(err)
			}
		}
		if errs != nil {
			raw = strings.Join(names[i:], " ")
			break
		}
		added++
	}
	if errs != nil {
		vm, err := h.mailboxPage(c, a, m)
		if err != nil {
			return err
		}
		vm.NewAliases, vm.AliasErrors = raw, errs
		if added > 0 {
			vm.Flash = viewmodel.Count(int64(added), "alias", "aliases") + " added before the one refused."
		}
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Mailbox(*vm))
	}
	return h.Done(c, viewmodel.Count(int64(added), "alias", "aliases")+" added to "+a.String()+".", mailboxHref(a))
}
