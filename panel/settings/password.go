package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

// password changes the user's one password, after checking the current
// one. The change ends every session of the mailbox, here and in other
// browsers; this browser is signed in again with a fresh session.
func (h handlers) password(c echo.Context) error {
	id := request.IdentityOf(c)
	var errs map[string]string
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		errs = map[string]string{"password2": "the two passwords differ"}
	} else if m, err := h.Tenants.ChangeOwnPassword(c.Request().Context(), id.Self, c.FormValue("current_password"), pw); err != nil {
		if !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
	} else {
		l := *id.Login
		l.Mailbox = m
		if err := h.Sessions.RenewSession(c, &l); err != nil {
			return err
		}
	}
	if errs != nil {
		vm, err := h.page(c)
		if err != nil {
			return err
		}
		vm.Password.Errors = errs
		return request.Render(c, http.StatusUnprocessableEntity, vsettings.Settings(*vm))
	}
	return h.Done(c, "Your password is changed.", "/settings")
}
