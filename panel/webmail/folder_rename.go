package webmail

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// folderRename renames a folder and its sub-folders.
func (h handlers) folderRename(c echo.Context) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	fid, err := folderParam(c)
	if err != nil {
		return err
	}
	folders, err := h.mail.Folders(ctx, acct.mailboxID)
	if err != nil {
		return err
	}
	f, err := folderFor(folders, fid)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	if protected(f) {
		return h.renderFolders(c, http.StatusUnprocessableEntity, "", map[string]string{"": f.Name + " is a special folder; its name stays."})
	}
	if name == f.Name {
		return h.Done(c, "The name is unchanged.", "/webmail/folders")
	}
	if err := h.mail.RenameFolder(ctx, acct.mailboxID, f.ID, name); err != nil {
		if msg, ok := userMessage(err, acct.quota); ok {
			return h.renderFolders(c, http.StatusUnprocessableEntity, "", map[string]string{"": "Renaming " + f.Name + ": " + msg})
		}
		return mailError(err)
	}
	return h.Done(c, "Folder "+f.Name+" renamed to "+name+".", "/webmail/folders")
}
