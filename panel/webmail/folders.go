package webmail

import (
	"net/http"

	"github.com/dustin/go-humanize"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/web"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// folders shows the folder management page.
func (h handlers) folders(c echo.Context) error {
	return h.renderFolders(c, http.StatusOK, "", nil)
}

// renderFolders shows the folder page, with a form's name and errors
// after a failed change.
func (h handlers) renderFolders(c echo.Context, status int, newName string, errs map[string]string) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	folders, err := h.mail.Folders(ctx, acct.mailboxID)
	if err != nil {
		return err
	}
	frame, err := h.frame(c, acct, folders, 0, "Folders")
	if err != nil {
		return err
	}
	vm := vwebmail.FoldersPage{Frame: frame, CSRFToken: acct.id.CSRF, NewName: newName, Errors: errs}
	for _, f := range sortFolders(folders) {
		href := folderHref(f.ID)
		vm.Rows = append(vm.Rows, vwebmail.FolderRow{
			ID: itoa64(f.ID), Name: f.Name, Href: href, Messages: humanize.Comma(f.Messages), Unseen: humanize.Comma(f.Unseen),
			Special: f.SpecialUse != "" || f.Name == "INBOX", RenameAction: href + "/rename", DeleteAction: href + "/delete",
			HasMessages: f.Messages > 0,
		})
	}
	return web.Render(c, status, vwebmail.Folders(vm))
}

// protected reports whether webmail leaves a folder's name alone: INBOX
// and the special-use folders it files into, which mail clients find by
// their attribute.
func protected(f *Folder) bool { return f.Name == "INBOX" || f.SpecialUse != "" }
