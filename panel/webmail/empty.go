package webmail

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// empty deletes every message of Trash or Junk for good.
func (h handlers) empty(c echo.Context) error {
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
	if f.SpecialUse != UseTrash && f.SpecialUse != UseJunk {
		return request.Refuse(http.StatusBadRequest, "Only Trash and Junk are emptied this way.")
	}
	if err := h.mail.Remove(ctx, acct.mailboxID, f.ID, nil); err != nil {
		return mailError(err)
	}
	return h.Done(c, f.Name+" is empty.", folderHref(f.ID))
}
