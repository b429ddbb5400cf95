package admin

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// maxShownSource bounds the text of a system message a page shows.
const maxShownSource = 256 << 10

// systemMailShow shows one message of the system mailbox. It is shown as
// its source, escaped text in a <pre>, never rendered: mail to a postmaster
// is abuse reports and bounces, whose header is what an administrator
// needs, and text never runs scripts or loads remote content, which is
// what webmail's sanitiser guards against for HTML. Only the first
// maxShownSource bytes are read.
func (h handlers) systemMailShow(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	m, r, err := h.SystemMail.SystemMessage(c.Request().Context(), request.IdentityOf(c).Scope, id)
	if err != nil {
		return request.Status(err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxShownSource+1))
	if err != nil {
		return err
	}
	cut := len(b) > maxShownSource
	if cut {
		b = b[:maxShownSource]
	}
	subject := m.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	base := "/admin/system-mail/" + strconv.FormatInt(id, 10)
	vm := vadmin.SystemMessagePage{Page: h.Page(c, subject), BackHref: "/admin/system-mail", DeleteAction: base + "/delete",
		Received: viewmodel.When(&m.ReceivedAt), From: m.From, To: m.To, Subject: subject, Size: humanize.IBytes(uint64(max(m.Size, 0))),
		Source: strings.ToValidUTF8(strings.ReplaceAll(string(b), "\r\n", "\n"), "\uFFFD"), Cut: cut}
	return request.Render(c, http.StatusOK, vadmin.SystemMessage(vm))
}
