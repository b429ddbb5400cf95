package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// deliveryUpdate saves the Delivery Options; the queue checks them and
// writes the change to the audit log.
func (h handlers) deliveryUpdate(c echo.Context) error {
	vm, err := h.deliveryPage(c)
	if err != nil {
		return err
	}
	f, s, ferrs := deliveryForm(c)
	if ferrs == nil {
		err := h.Queue.SetDeliveryOptions(c.Request().Context(), request.IdentityOf(c).Scope, s)
		if err != nil && !request.MergeErrors(&ferrs, err) {
			return request.Status(err)
		}
	}
	if ferrs != nil {
		f.SmartHostPassword = vm.Form.SmartHostPassword
		f.Errors = ferrs
		vm.Form = f
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.Delivery(*vm))
	}
	return h.Done(c, "Delivery Options saved.", "/admin/delivery")
}
