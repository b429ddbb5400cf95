package webmail

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// folderDelete removes a folder and its messages; one that holds messages
// needs the confirmation box ticked.
func (h handlers) folderDelete(c echo.Context) error {
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
	if protected(f) {
		return h.renderFolders(c, http.StatusUnprocessableEntity, "", map[string]string{"": f.Name + " is a special folder and stays."})
	}
	if f.Messages > 0 && c.FormValue("confirm") != "yes" {
		return h.renderFolders(c, http.StatusUnprocessableEntity, "", map[string]string{"": "Tick the box to delete " + f.Name + " with its messages."})
	}
	if err := h.mail.DeleteFolder(ctx, acct.mailboxID, f.ID); err != nil {
		return mailError(err)
	}
	return h.Done(c, "Folder "+f.Name+" deleted.", "/webmail/folders")
}
