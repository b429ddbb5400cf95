package webmail

import (
	"net/http"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/emersion/go-message/mail"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// messageShow shows a message and marks it read: its headers, its text,
// or its HTML in a sandboxed frame (messageHTML) with remote images
// blocked until asked for, and its attachments.
func (h handlers) messageShow(c echo.Context) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	fid, err := folderParam(c)
	if err != nil {
		return err
	}
	uid, err := uidParam(c)
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
	sum, err := h.mail.Message(ctx, acct.mailboxID, f.ID, uid)
	if err != nil {
		return mailError(err)
	}
	pm, err := h.parseMessage(c, acct, f.ID, uid, false)
	if err != nil {
		return err
	}
	if !sum.Seen {
		if err := h.mail.SetFlags(ctx, acct.mailboxID, f.ID, []uint32{uid}, []Flag{FlagSeen}, true); err != nil {
			return mailError(err)
		}
		sum.Seen = true
		f.Unseen = max(f.Unseen-1, 0)
	}
	subject, _ := pm.Header.Subject()
	if strings.TrimSpace(subject) == "" {
		subject = "(no subject)"
	}
	frame, err := h.frame(c, acct, folders, f.ID, subject)
	if err != nil {
		return err
	}
	self := messageHref(f.ID, uid)
	r := ref(f.ID, uid)
	vm := vwebmail.MessagePage{
		Frame: frame, CSRFToken: acct.id.CSRF, Subject: subject,
		From: addressLine(pm.Header, "From"), To: addressLine(pm.Header, "To"), Cc: addressLine(pm.Header, "Cc"),
		Date:    headerDate(pm.Header, sum.Date),
		RawHref: self + "/raw", BackHref: folderHref(f.ID),
		ReplyHref: "/webmail/compose?reply=" + r, ReplyAllHref: "/webmail/compose?replyall=" + r, ForwardHref: "/webmail/compose?forward=" + r,
		BulkAction: folderHref(f.ID) + "/bulk", UID: itoa64(int64(uid)), Seen: sum.Seen, Flagged: sum.Flagged,
		IsTrash: f.SpecialUse == UseTrash, MoveTargets: moveTargets(folders, f.ID),
		UnauthenticatedSender: unauthenticatedHostedSender(pm.Header),
	}
	vm.SenderCheck, vm.SenderVerified = senderCheck(pm.Header)
	if f.SpecialUse == UseDrafts {
		vm.EditHref = "/webmail/compose?draft=" + r
	}
	if from, err := pm.Header.AddressList("From"); err == nil && len(from) == 1 {
		vm.SenderName, vm.SenderAddress = from[0].Name, from[0].Address
	}
	images := c.QueryParam("images") == "1"
	var cids map[string]bool
	if pm.HTML != "" && c.QueryParam("view") != "text" {
		s := h.san.sanitize(pm.HTML, nil, images)
		cids = s.CIDs
		vm.FrameSrc = self + "/html"
		if images {
			vm.FrameSrc += "?images=1"
		} else if s.Blocked {
			vm.ShowImagesHref = self + "?images=1"
		}
		if strings.TrimSpace(pm.Text) != "" {
			vm.OtherViewHref, vm.OtherViewLabel = self+"?view=text", "Show as plain text"
		}
	} else {
		vm.Text = pm.Text
		if pm.HTML != "" {
			vm.OtherViewHref, vm.OtherViewLabel = self, "Show as HTML"
		}
	}
	for _, a := range pm.Attachments {
		if a.ContentID != "" && cids[a.ContentID] && inlineImageType(a.Type) {
			continue // shown in the text
		}
		vm.Attachments = append(vm.Attachments, vwebmail.Attachment{Name: a.Name, Size: size(a.Size), Href: self + "/part/" + itoa(a.N)})
	}
	if pm.Limited {
		vm.Notes = append(vm.Notes, "This message has more parts, or deeper nesting, than webmail shows; the source shows all of it.")
	} else if pm.MoreParts {
		vm.Notes = append(vm.Notes, "This message has more than "+humanize.Comma(maxShownParts)+" parts: only the first "+
			humanize.Comma(maxShownParts)+" are shown here; the source shows all of it.")
	}
	if pm.TextCut {
		vm.Notes = append(vm.Notes, "The text is long: only its beginning is shown here; the source shows all of it.")
	}
	return request.Render(c, http.StatusOK, vwebmail.Message(vm))
}

// parseMessage reads and parses a message of the signed-in mailbox
// (inline: keeping inline images' data), holding one of its heavy slots.
func (h handlers) parseMessage(c echo.Context, acct account, folderID int64, uid uint32, inline bool) (*parsedMessage, error) {
	ctx := c.Request().Context()
	var pm *parsedMessage
	err := h.heavy(c, acct, func() error {
		var err error
		pm, err = parse(ctx, h.walker(ctx, acct, folderID, uid), parseOptions{inline: inline})
		return err
	})
	return pm, err
}

// addressLine shows an address header decoded: "Name <address>, ...".
func addressLine(h mail.Header, key string) string {
	list, err := h.AddressList(key)
	if err != nil || len(list) == 0 {
		v, _ := h.Text(key)
		return v
	}
	parts := make([]string, len(list))
	for i, a := range list {
		if a.Name != "" {
			parts[i] = a.Name + " <" + a.Address + ">"
		} else {
			parts[i] = a.Address
		}
	}
	return strings.Join(parts, ", ")
}

// headerDate shows the Date header as the sender wrote it (their zone);
// without one, the arrival time in UTC.
func headerDate(h mail.Header, fallback time.Time) string {
	if d, err := h.Date(); err == nil && !d.IsZero() {
		return d.Format("Mon, 2 Jan 2006 15:04 -0700")
	}
	return fallback.UTC().Format("Mon, 2 Jan 2006 15:04 UTC")
}
