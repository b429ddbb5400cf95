package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// mailboxNew shows the form for a new mailbox, with the defaults.
func (h handlers) mailboxNew(c echo.Context) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	st := tenants.DefaultMailboxSettings()
	f := vpm.MailboxForm{
		New: true, Action: domainHref(name) + "/mailboxes", Active: st.Active, MaySend: st.MaySend,
		MayResponder: st.MayResponder, MayForward: st.MayForward, Webmail: st.Webmail,
		ShowPostmaster: request.IdentityOf(c).IsAdmin(), ExpireInactiveDays: "0", ExpireAfterDays: "0",
	}
	return request.Render(c, http.StatusOK, vpm.MailboxNew(vpm.MailboxNewPage{Page: h.Page(c, "Add mailbox"), Domain: d.Name, BackHref: domainHref(name), Form: f}))
}
