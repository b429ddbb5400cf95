package postmaster

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// listIndex lists the domain's mailing lists, with the form for a new one.
func (h handlers) listIndex(c echo.Context) error {
	vm, err := h.listsPage(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vpm.Lists(*vm))
}

func (h handlers) listsPage(c echo.Context) (*vpm.ListsPage, error) {
	d, name, err := h.domain(c)
	if err != nil {
		return nil, err
	}
	ls, err := h.Tenants.Lists(c.Request().Context(), request.IdentityOf(c).Scope, name)
	if err != nil {
		return nil, request.Status(err)
	}
	base := domainHref(name) + "/lists"
	vm := &vpm.ListsPage{Page: h.Page(c, "Mailing lists of "+d.Name), Domain: d.Name, New: vpm.ListForm{Action: base}}
	for _, l := range ls {
		href := base + "/" + url.PathEscape(l.LocalPart)
		vm.Rows = append(vm.Rows, vpm.ListRow{Address: l.LocalPart + "@" + d.Name, Kind: l.Kind, Href: href, RemoveAction: href + "/delete"})
	}
	return vm, nil
}

func listHref(d, local string) string {
	return "/d/" + url.PathEscape(d) + "/lists/" + url.PathEscape(local)
}
