package webmail

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
)

// bulk changes the selected messages of a folder: mark read or unread,
// flag or unflag, move, or delete (to Trash; in Trash, for good). From a
// message's own page (return=message) a flag change goes back to the
// message.
func (h handlers) bulk(c echo.Context) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	fid, err := folderParam(c)
	if err != nil {
		return err
	}
	folders, err := h.foldersForChange(ctx, acct)
	if err != nil {
		return err
	}
	f, err := folderFor(folders, fid)
	if err != nil {
		return err
	}
	back := folderHref(f.ID)
	if q := c.QueryString(); q != "" {
		back += "?" + q
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	var uids []uint32
	for _, s := range form["uid"] {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		uids = append(uids, uint32(n))
	}
	if len(uids) > 10000 {
		return request.Refuse(http.StatusBadRequest, "Select at most 10,000 messages at once.")
	}
	action := c.FormValue("action")
	if len(uids) == 0 {
		return h.Done(c, "Select one or more messages first.", back)
	}
	fromMessage := c.FormValue("return") == "message" && len(uids) == 1
	if fromMessage {
		// Only a message's own page sends return=message; its page is
		// where flag changes go back to.
		if _, err := h.mail.Message(ctx, acct.mailboxID, f.ID, uids[0]); err != nil {
			return mailError(err)
		}
	}
	n := viewmodel.Count(int64(len(uids)), "message", "messages")
	var msg string
	stay := false
	switch action {
	case "read", "unread", "flag", "unflag":
		flag, on := FlagSeen, action == "read"
		if action == "flag" || action == "unflag" {
			flag, on = FlagFlagged, action == "flag"
		}
		err = h.mail.SetFlags(ctx, acct.mailboxID, f.ID, uids, []Flag{flag}, on)
		msg = map[string]string{"read": "marked read", "unread": "marked unread", "flag": "flagged", "unflag": "unflagged"}[action]
		msg = n + " " + msg + "."
		stay = action != "unread"
	case "delete":
		trash := special(folders, UseTrash)
		if trash == nil || trash.ID == f.ID {
			err = h.mail.Remove(ctx, acct.mailboxID, f.ID, uids)
			msg = n + " deleted for good."
		} else {
			err = h.mail.Move(ctx, acct.mailboxID, f.ID, uids, trash.ID)
			msg = n + " moved to " + trash.Name + "."
		}
	case "move":
		to, perr := strconv.ParseInt(c.FormValue("to"), 10, 64)
		dst, ferr := folderFor(folders, to)
		if perr != nil || ferr != nil {
			return h.Done(c, "Choose a folder to move to.", back)
		}
		if dst.ID == f.ID {
			return h.Done(c, "The messages are in "+f.Name+" already.", back)
		}
		err = h.mail.Move(ctx, acct.mailboxID, f.ID, uids, dst.ID)
		msg = n + " moved to " + dst.Name + "."
	default:
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if err != nil {
		if m, ok := userMessage(err, acct.quota); ok {
			return h.Done(c, m, back)
		}
		return mailError(err)
	}
	if fromMessage && stay {
		return h.Done(c, msg, messageHref(f.ID, uids[0]))
	}
	return h.Done(c, msg, back)
}
