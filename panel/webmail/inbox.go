package webmail

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// inbox sends the user to INBOX, where a sign-in lands; to the folder
// page while the mailbox has no INBOX yet (a session older than the
// sign-in that makes it: this page creates nothing).
func (h handlers) inbox(c echo.Context) error {
	acct := accountOf(c)
	folders, err := h.mail.Folders(c.Request().Context(), acct.mailboxID)
	if err != nil {
		return err
	}
	in := inboxOf(folders)
	if in == nil {
		return c.Redirect(http.StatusSeeOther, "/webmail/folders")
	}
	return c.Redirect(http.StatusSeeOther, folderHref(in.ID))
}
