package postmaster

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/views"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

func (h handlers) mailboxShow(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	vm, err := h.mailboxPage(c, a, m)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vpm.Mailbox(*vm))
}

// mailboxPage builds a mailbox's page from what is stored; handlers that
// re-show one of its forms with errors replace that form.
func (h handlers) mailboxPage(c echo.Context, a address.Address, m *tenants.Mailbox) (*vpm.MailboxPage, error) {
	ctx := c.Request().Context()
	id := request.IdentityOf(c)
	aliases, err := h.Tenants.Aliases(ctx, id.Scope, a.Domain, a)
	if err != nil {
		return nil, request.Status(err)
	}
	fwd, store, err := h.Tenants.Forwards(ctx, id.Scope, a)
	if err != nil {
		return nil, request.Status(err)
	}
	r, err := h.Tenants.Responder(ctx, id.Scope, a)
	if err != nil {
		return nil, request.Status(err)
	}
	now := time.Now()
	base := mailboxHref(a)
	status := "active"
	switch {
	case !m.Active:
		status = "disabled"
	case m.Expired(now):
		status = "expired"
	case m.SignInOff:
		status = "sign-in off"
	}
	settings := formOf(m, id.IsAdmin())
	settings.Action = base
	vm := &vpm.MailboxPage{
		Page: h.Page(c, a.String()), Address: a.String(), Domain: a.Domain.String(), BackHref: domainHref(a.Domain),
		Created: viewmodel.When(&m.CreatedAt), LastLogin: viewmodel.When(m.LastLoginAt), Status: status,
		Settings:     settings,
		Password:     views.PasswordForm{Action: base + "/password", CSRFToken: id.CSRF},
		AliasAction:  base + "/aliases",
		Forwards:     request.ForwardsView(fwd, store, base+"/forwards", id.CSRF),
		Responder:    request.ResponderView(r, now, base+"/responder", id.CSRF),
		DeleteAction: base + "/delete",
		Leaver:       vpm.LeaverForm{Action: base + "/leaver", CSRFToken: id.CSRF, SignInOff: m.SignInOff, StoreMail: true},
	}
	for _, al := range aliases {
		local, _, _ := cut(al.Address)
		vm.Aliases = append(vm.Aliases, vpm.AliasItem{Address: al.Address, RemoveAction: base + "/aliases/" + url.PathEscape(local) + "/delete"})
	}
	return vm, nil
}

func cut(addr string) (string, string, bool) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[:i], addr[i+1:], true
		}
	}
	return addr, "", false
}
