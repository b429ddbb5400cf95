package webmail

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// folderHref is the URL of a folder's message list.
func folderHref(id int64) string { return "/webmail/f/" + strconv.FormatInt(id, 10) }

// messageHref is the URL of a message.
func messageHref(folderID int64, uid uint32) string {
	return folderHref(folderID) + "/m/" + strconv.FormatUint(uint64(uid), 10)
}

// ref names a message in a form field: "folder/uid".
func ref(folderID int64, uid uint32) string {
	return strconv.FormatInt(folderID, 10) + "/" + strconv.FormatUint(uint64(uid), 10)
}

// parseRef reads a "folder/uid" form field; ok is false for anything else.
func parseRef(s string) (folderID int64, uid uint32, ok bool) {
	f, u, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	fid, err1 := strconv.ParseInt(f, 10, 64)
	n, err2 := strconv.ParseUint(u, 10, 32)
	if err1 != nil || err2 != nil || fid <= 0 || n == 0 {
		return 0, 0, false
	}
	return fid, uint32(n), true
}

// folderFor finds a folder in the mailbox's list; ErrNotFound otherwise.
func folderFor(folders []Folder, id int64) (*Folder, error) {
	for i := range folders {
		if folders[i].ID == id {
			return &folders[i], nil
		}
	}
	return nil, echo.NewHTTPError(http.StatusNotFound)
}

// special finds the folder of a special use.
func special(folders []Folder, use string) *Folder {
	for i := range folders {
		if folders[i].SpecialUse == use {
			return &folders[i]
		}
	}
	return nil
}

// inboxOf finds INBOX.
func inboxOf(folders []Folder) *Folder {
	for i := range folders {
		if folders[i].Name == "INBOX" {
			return &folders[i]
		}
	}
	return nil
}

// sortFolders orders the side list: INBOX, the other special-use folders
// in their usual order, then the rest by name (as stored).
func sortFolders(folders []Folder) []Folder {
	rank := map[string]int{"": 9, `\Drafts`: 2, `\Sent`: 3, `\Archive`: 4, `\Junk`: 5, `\Trash`: 6}
	r := func(f Folder) int {
		if f.Name == "INBOX" {
			return 1
		}
		if n, ok := rank[f.SpecialUse]; ok {
			return n
		}
		return 8
	}
	out := append([]Folder(nil), folders...)
	// Insertion sort: a few dozen folders, already by name.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && r(out[j]) < r(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// frame builds what every webmail page shows around its content.
func (h handlers) frame(c echo.Context, acct account, folders []Folder, current int64, title string) (vwebmail.Frame, error) {
	f := vwebmail.Frame{Page: h.Page(c, title)}
	for _, fo := range sortFolders(folders) {
		levels := strings.Split(fo.Name, "/")
		l := vwebmail.FolderLink{Name: levels[len(levels)-1], Href: folderHref(fo.ID), Depth: len(levels) - 1, Current: fo.ID == current}
		if fo.Unseen > 0 {
			l.Unseen = humanize.Comma(fo.Unseen)
		}
		f.Folders = append(f.Folders, l)
	}
	used, err := h.mail.Usage(c.Request().Context(), acct.mailboxID)
	if err != nil {
		return f, err
	}
	if acct.quota > 0 {
		f.Quota = humanize.IBytes(uint64(used)) + " of " + humanize.IBytes(uint64(acct.quota)) + " used"
		f.QuotaFull = used >= acct.quota
	} else {
		f.Quota = humanize.IBytes(uint64(used)) + " used"
	}
	return f, nil
}

// moveTargets lists the folders messages of folder current may move to.
func moveTargets(folders []Folder, current int64) []vwebmail.Option {
	var out []vwebmail.Option
	for _, f := range sortFolders(folders) {
		if f.ID != current {
			out = append(out, vwebmail.Option{Value: strconv.FormatInt(f.ID, 10), Label: f.Name})
		}
	}
	return out
}

// size formats a byte count for a list.
func size(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }

// listDate formats a message date for a list, in UTC like the rest of the
// panel: the time for today, the day for this year, else the date.
func listDate(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 2")
	}
	return t.Format("2006-01-02")
}

// mailError turns a Mail error into what the user sees: 404 for anything
// not found (also another mailbox's folder or message), a field message
// for names and quota, else the error as it is (500).
func mailError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound)
	case errors.Is(err, tenants.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound)
	}
	return err
}

// userMessage is the message shown for an error the user can act on; ok
// is false for other errors.
func userMessage(err error, quota int64) (string, bool) {
	var se *SubmitError
	switch {
	case errors.As(err, &se):
		return se.Message(), true
	case errors.Is(err, ErrOverQuota):
		msg := "Your mailbox is full"
		if quota > 0 {
			msg += " (" + humanize.IBytes(uint64(quota)) + ")"
		}
		return msg + ": nothing was saved. Delete some messages and empty Trash, then try again.", true
	case errors.Is(err, ErrTooBig):
		return "The message is larger than the server accepts.", true
	case errors.Is(err, ErrExists):
		return "A folder of that name exists already.", true
	case errors.Is(err, ErrTooManyFolders):
		return "This mailbox has as many folders as a mailbox may have: delete one before making another.", true
	case errors.Is(err, ErrBadName):
		return "Give a folder name of 1 to 255 characters, without control characters, * or %, and no empty, \".\" or \"..\" levels between the slashes.", true
	case errors.Is(err, ErrNotAllowed):
		return "That can't be done with this folder.", true
	}
	return "", false
}
