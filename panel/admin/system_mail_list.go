package admin

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/dustin/go-humanize"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// systemMailList shows the system postmaster's form and lists the system
// mailbox.
func (h handlers) systemMailList(c echo.Context) error {
	vm, err := h.systemMailPage(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vadmin.SystemMail(*vm))
}

// systemMailPage builds the page from the stored setting and messages;
// a form re-shown with errors replaces its parts.
func (h handlers) systemMailPage(c echo.Context) (*vadmin.SystemMailPage, error) {
	ctx := c.Request().Context()
	sc := request.IdentityOf(c).Scope
	pm, err := h.Tenants.SystemPostmaster(ctx, sc)
	if err != nil {
		return nil, request.Status(err)
	}
	vm := &vadmin.SystemMailPage{Page: h.Page(c, "System mail"), PostmasterAction: "/admin/system-mail/postmaster",
		Postmaster: pm.String(), HasList: h.SystemMail != nil}
	if h.SystemMail == nil {
		return vm, nil
	}
	page := request.PageNumber(c)
	ms, total, err := h.SystemMail.SystemMessages(ctx, sc, viewmodel.PageSize, (page-1)*viewmodel.PageSize)
	if err != nil {
		return nil, request.Status(err)
	}
	vm.Pager = viewmodel.MakePager("/admin/system-mail", url.Values{}, page, total, "message", "messages")
	for i := range ms {
		m := &ms[i]
		subject := m.Subject
		if subject == "" {
			subject = "(no subject)"
		}
		vm.Rows = append(vm.Rows, vadmin.SystemMailRow{Href: "/admin/system-mail/" + strconv.FormatInt(m.ID, 10),
			Received: viewmodel.When(&m.ReceivedAt), From: m.From, To: m.To, Subject: subject, Size: humanize.IBytes(uint64(max(m.Size, 0)))})
	}
	return vm, nil
}
