package webmail

import (
	"context"
	"net/http"

	"github.com/dustin/go-humanize"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
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
	return request.Render(c, status, vwebmail.Folders(vm))
}

// foldersForChange lists the mailbox's folders for a change (POST),
// creating the special-use folders it lacks first: pages only read them.
func (h handlers) foldersForChange(ctx context.Context, acct account) ([]Folder, error) {
	if err := h.mail.EnsureFolders(ctx, acct.mailboxID); err != nil {
		return nil, err
	}
	return h.mail.Folders(ctx, acct.mailboxID)
}

// SignedIn prepares a mailbox whose user has just signed in to webmail:
// its special-use folders are made here, the one write of a sign-in, so
// that the pages after it (GET) only read.
func SignedIn(ctx context.Context, cfg Config, l *tenants.Login) error {
	if cfg.Mail == nil || l.Mailbox == nil || !l.Mailbox.Webmail {
		return nil
	}
	return cfg.Mail.EnsureFolders(ctx, l.Mailbox.ID)
}

// protected reports whether webmail leaves a folder's name alone: INBOX
// and the special-use folders it files into, which mail clients find by
// their attribute.
func protected(f *Folder) bool { return f.Name == "INBOX" || f.SpecialUse != "" }
