package admin

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

func (h handlers) domainShow(c echo.Context) error {
	d, err := request.DomainParam(c)
	if err != nil {
		return err
	}
	vm, err := h.domainPage(c, d)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vadmin.Domain(*vm))
}

// domainPage builds the domain page from the stored domain; handlers that
// re-show a form with errors replace its parts.
func (h handlers) domainPage(c echo.Context, name address.Domain) (*vadmin.DomainPage, error) {
	ctx := c.Request().Context()
	sc := request.IdentityOf(c).Scope
	rows, _, err := h.Tenants.Domains(ctx, sc, tenants.DomainQuery{Search: name.String(), Limit: 1000})
	if err != nil {
		return nil, err
	}
	var d *tenants.DomainInfo
	for i := range rows {
		if rows[i].Name == name.String() {
			d = &rows[i]
		}
	}
	if d == nil {
		return nil, request.Status(tenants.ErrNotFound)
	}
	pms, err := h.Tenants.Postmasters(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	base := "/admin/domains/" + url.PathEscape(d.Name)
	vm := &vadmin.DomainPage{
		Page: h.Page(c, d.Name), Name: d.Name,
		MailboxesHref: "/d/" + url.PathEscape(d.Name), AliasesHref: "/d/" + url.PathEscape(d.Name) + "/aliases",
		AuditHref: "/d/" + url.PathEscape(d.Name) + "/audit",
		Counts:    viewmodel.Count(d.Mailboxes, "mailbox", "mailboxes") + ", " + viewmodel.Count(d.Aliases, "alias", "aliases"),
		Form: vadmin.DomainForm{
			Description: d.Description, Active: d.Active,
			MaxMailboxes: strconv.FormatInt(d.MaxMailboxes, 10), MaxAliases: strconv.FormatInt(d.MaxAliases, 10),
			DefaultQuota: tenants.FormatSize(d.DefaultQuota), AliasOf: d.AliasOf, Postmaster: d.Postmaster,
			MaxMailboxQuota: tenants.FormatSize(d.MaxMailboxQuota), StorageTotal: tenants.FormatSize(d.StorageTotal),
		},
		Action: base, PMAction: base + "/postmasters", DeleteAction: base + "/delete",
	}
	if h.Queue != nil {
		vm.QueueHref = "/d/" + url.PathEscape(d.Name) + "/queue"
	}
	for _, p := range pms {
		local, _, _ := cutAt(p)
		vm.Postmasters = append(vm.Postmasters, vadmin.PostmasterRow{Address: p, RevokeAction: base + "/postmasters/" + url.PathEscape(local) + "/revoke"})
	}
	return vm, nil
}

func cutAt(a string) (string, string, bool) {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] == '@' {
			return a[:i], a[i+1:], true
		}
	}
	return a, "", false
}
