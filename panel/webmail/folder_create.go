package webmail

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// folderCreate makes a folder; "/" separates levels.
func (h handlers) folderCreate(c echo.Context) error {
	acct := accountOf(c)
	name := strings.TrimSpace(c.FormValue("name"))
	if err := h.mail.EnsureFolders(c.Request().Context(), acct.mailboxID); err != nil {
		return err
	}
	if err := h.mail.CreateFolder(c.Request().Context(), acct.mailboxID, name); err != nil {
		if msg, ok := userMessage(err, acct.quota); ok {
			return h.renderFolders(c, http.StatusUnprocessableEntity, name, map[string]string{"name": msg})
		}
		return mailError(err)
	}
	return h.Done(c, "Folder "+name+" created.", "/webmail/folders")
}
