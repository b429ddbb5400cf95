package settings

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/clientsetup"
	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
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
	rules, err := h.Tenants.DomainRules(ctx, id.Self, a.Domain)
	if err != nil {
		return nil, request.Status(err)
	}
	vm.PasswordLocked = !rules.UsersChangePassword
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
	if h.ClientSetup != nil {
		vm.Clients = clientSetup(*h.ClientSetup, a)
	}
	if err := h.security(c, vm); err != nil {
		return nil, err
	}
	return vm, nil
}

// clientSetup lists the servers a mail program is told to use, and both
// login forms of the address.
func clientSetup(s clientsetup.Servers, a address.Address) *vsettings.ClientSetup {
	out := &vsettings.ClientSetup{Logins: []string{a.String(), string(a.Local) + "/" + a.Domain.String()}}
	use := map[string]string{"imap": "Incoming (IMAP)", "pop3": "Incoming (POP3)", "smtp": "Outgoing (SMTP)"}
	for _, sv := range s.Offered() {
		sec := "STARTTLS"
		if sv.TLS {
			sec = "SSL/TLS"
		}
		out.Servers = append(out.Servers, vsettings.ClientServer{Use: use[sv.Kind], Host: s.Host, Port: strconv.Itoa(sv.Port), Security: sec})
	}
	return out
}

// security fills the app password and two-factor cards.
func (h handlers) security(c echo.Context, vm *vsettings.SettingsPage) error {
	ctx := c.Request().Context()
	id := request.IdentityOf(c)
	aps, err := h.Tenants.AppPasswords(ctx, id.Self, id.Login.Address)
	if err != nil {
		return request.Status(err)
	}
	vm.AppPasswords.CSRFToken = id.CSRF
	for _, ap := range aps {
		vm.AppPasswords.Rows = append(vm.AppPasswords.Rows, vsettings.AppPasswordRow{
			Name: ap.Name, Protocols: strings.ReplaceAll(ap.Protocols, ",", ", "), Created: viewmodel.When(&ap.CreatedAt), LastUsed: viewmodel.When(ap.LastUsedAt),
		})
	}
	labels := map[tenants.Protocol]string{tenants.IMAP: "IMAP", tenants.POP3: "POP3", tenants.SMTP: "SMTP (sending)", tenants.CardDAV: "CardDAV (contacts)", tenants.LDAP: "LDAP (directory)"}
	for _, p := range tenants.Protocols {
		vm.AppPasswords.Protocols = append(vm.AppPasswords.Protocols, vsettings.ProtocolChoice{Value: string(p), Label: labels[p]})
	}
	own, defaults, may, err := h.Tenants.MailboxRetention(ctx, id.Self, id.Login.Address)
	if err != nil {
		return request.Status(err)
	}
	vm.Retention = vsettings.RetentionForm{CSRFToken: id.CSRF, Own: tenants.FormatRetention(own), MayChange: may}
	for _, r := range defaults {
		if r.Days > 0 {
			vm.Retention.Defaults = append(vm.Retention.Defaults, fmt.Sprintf("%s after %d days", r.Folder, r.Days))
		}
	}
	st, err := h.Tenants.TwoFactor(ctx, id.Login)
	if err != nil {
		return request.Status(err)
	}
	vm.TwoFactor = vsettings.TwoFactorSummary{On: st.On, Required: st.Required}
	return nil
}
