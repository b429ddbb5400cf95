package postmaster

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// leaver sets a departing user's mailbox up in one action
// (tenants.Leave): sign-in off, forward, store-mail switch, responder.
func (h handlers) leaver(c echo.Context) error {
	a, m, err := h.mailbox(c)
	if err != nil {
		return err
	}
	id := request.IdentityOf(c)
	f := vpm.LeaverForm{Forward: c.FormValue("addresses"), StoreMail: c.FormValue("store_mail") == "on",
		Subject: strings.TrimSpace(c.FormValue("subject")), Body: c.FormValue("body")}
	in := tenants.Leaver{StoreMail: f.StoreMail}
	var errs map[string]string
	for _, line := range strings.Fields(f.Forward) {
		fa, err := address.ParseAddress(line)
		if err != nil {
			errs = map[string]string{"addresses": line + ": " + err.Error()}
			break
		}
		in.ForwardTo = append(in.ForwardTo, fa)
	}
	if f.Subject != "" || strings.TrimSpace(f.Body) != "" {
		in.Responder = tenants.ResponderInput{Enabled: true, Subject: f.Subject, Body: f.Body}
	}
	if errs == nil {
		if err := h.Tenants.Leave(c.Request().Context(), id.Scope, a, in); err != nil && !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
	}
	if errs != nil {
		vm, err := h.mailboxPage(c, a, m)
		if err != nil {
			return err
		}
		f.Action, f.CSRFToken, f.SignInOff, f.Errors = vm.Leaver.Action, id.CSRF, m.SignInOff, errs
		vm.Leaver = f
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Mailbox(*vm))
	}
	return h.Done(c, a.String()+" is set up as a leaver: sign-in is off.", mailboxHref(a))
}
