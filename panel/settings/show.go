package settings

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/views"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

func (h handlers) show(c echo.Context) error {
	vm, err := h.page(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vsettings.Settings(*vm))
}

// page builds the settings page from what is stored; the mailbox is read
// again, so permissions changed by a postmaster count at once.
func (h handlers) page(c echo.Context) (*vsettings.SettingsPage, error) {
	ctx := c.Request().Context()
	id := request.IdentityOf(c)
	m, err := h.Tenants.MailboxByID(ctx, id.Self, id.Self.MailboxID)
	if err != nil {
		return nil, request.Status(err)
	}
	a := id.Login.Address
	vm := &vsettings.SettingsPage{
		Page: h.Page(c, "My settings"), Address: a.String(),
		Password: views.PasswordForm{Action: "/settings/password", CSRFToken: id.CSRF, Current: true},
	}
	addrs, err := h.Tenants.Addresses(ctx, id.Self, m)
	if err != nil {
		return nil, request.Status(err)
	}
	for _, ad := range addrs {
		vm.Addresses = append(vm.Addresses, ad.Unicode())
	}
	if m.MayResponder {
		r, err := h.Tenants.Responder(ctx, id.Self, a)
		if err != nil {
			return nil, request.Status(err)
		}
		f := request.ResponderView(r, time.Now(), "/settings/responder", id.CSRF)
		vm.Responder = &f
	}
	if m.MayForward {
		fwd, store, err := h.Tenants.Forwards(ctx, id.Self, a)
		if err != nil {
			return nil, request.Status(err)
		}
		f := request.ForwardsView(fwd, store, "/settings/forwards", id.CSRF)
		vm.Forwards = &f
	}
	return vm, nil
}
