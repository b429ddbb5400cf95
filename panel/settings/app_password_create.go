package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vsettings "github.com/postdesk/postdesk/views/settings"
)

// appPasswordCreate makes an app password and shows it on the page it
// answers with (never in a flash or a redirect: it is shown once).
func (h handlers) appPasswordCreate(c echo.Context) error {
	ctx := c.Request().Context()
	id := request.IdentityOf(c)
	var protos []tenants.Protocol
	var errs map[string]string
	for _, v := range c.Request().Form["protocols"] {
		p, err := tenants.ParseProtocols(v)
		if err != nil {
			if !request.MergeErrors(&errs, err) {
				return request.Status(err)
			}
		}
		protos = append(protos, p...)
	}
	name := c.FormValue("name")
	var pw string
	if errs == nil {
		var err error
		if pw, _, err = h.Tenants.CreateAppPassword(ctx, id.Self, id.Login.Address, name, protos); err != nil && !request.MergeErrors(&errs, err) {
			return request.Status(err)
		}
	}
	vm, err := h.page(c)
	if err != nil {
		return err
	}
	if errs != nil {
		vm.AppPasswords.Errors, vm.AppPasswords.Name = errs, name
		for i := range vm.AppPasswords.Protocols {
			for _, p := range protos {
				if string(p) == vm.AppPasswords.Protocols[i].Value {
					vm.AppPasswords.Protocols[i].Checked = true
				}
			}
		}
		return request.Render(c, http.StatusUnprocessableEntity, vsettings.Settings(*vm))
	}
	vm.AppPasswords.Made, vm.AppPasswords.MadeName = pw, name
	c.Response().Header().Set("Cache-Control", "no-store")
	return request.Render(c, http.StatusOK, vsettings.Settings(*vm))
}
