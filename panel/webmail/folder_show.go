package webmail

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// folderShow lists a folder's messages, newest first, a page at a time,
// optionally searched by from, to, subject and body text.
func (h handlers) folderShow(c echo.Context) error {
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
	page := request.PageNumber(c)
	s := vwebmail.SearchForm{
		Action: folderHref(f.ID), ClearHref: folderHref(f.ID),
		From: strings.TrimSpace(c.QueryParam("from")), To: strings.TrimSpace(c.QueryParam("to")),
		Subject: strings.TrimSpace(c.QueryParam("subject")), Body: strings.TrimSpace(c.QueryParam("body")),
	}
	s.Active = s.From != "" || s.To != "" || s.Subject != "" || s.Body != ""
	q := Query{From: s.From, To: s.To, Subject: s.Subject, Offset: (page - 1) * pageSize, Limit: pageSize}
	if s.Body != "" {
		needle := strings.ToLower(s.Body)
		q.Body = func(text string, html bool) bool {
			if html {
				text = htmlToText(text)
			}
			return strings.Contains(strings.ToLower(text), needle)
		}
		// Bounds of real work, so the real clock.
		q.MaxScan, q.Deadline = MaxBodyScan, time.Now().Add(BodySearchTime)
	}
	var pg *Page
	list := func() error {
		pg, err = h.mail.List(ctx, acct.mailboxID, f.ID, q)
		return mailError(err)
	}
	if q.Body != nil {
		// A body search reads messages: heavy work.
		err = h.heavy(c, acct, list)
	} else {
		err = list()
	}
	if err != nil {
		return err
	}
	frame, err := h.frame(c, acct, folders, f.ID, f.Name)
	if err != nil {
		return err
	}
	query := url.Values{}
	for k, v := range map[string]string{"from": s.From, "to": s.To, "subject": s.Subject, "body": s.Body} {
		if v != "" {
			query.Set(k, v)
		}
	}
	vm := vwebmail.ListPage{
		Frame: frame, Folder: f.Name, CSRFToken: acct.id.CSRF, Search: s,
		BulkAction:  folderHref(f.ID) + "/bulk",
		IsTrash:     f.SpecialUse == UseTrash,
		MoveTargets: moveTargets(folders, f.ID),
		Pager:       pager(folderHref(f.ID), query, page, pg.Total),
		Empty:       "This folder is empty.",
	}
	if s.Active {
		vm.Empty = "No message matches."
	}
	if q.Body != nil {
		vm.Pager = searchPager(folderHref(f.ID), query, page, pg)
		if pg.Stopped {
			vm.SearchNote = searchStopped()
			vm.Empty = "No message found before the search stopped."
		}
	}
	back := url.Values{}
	for k, v := range query {
		back[k] = v
	}
	if page > 1 {
		back.Set("page", itoa(page))
	}
	if len(back) > 0 {
		vm.BulkAction += "?" + back.Encode()
	}
	if (f.SpecialUse == UseTrash || f.SpecialUse == UseJunk) && f.Messages > 0 {
		vm.EmptyAction = folderHref(f.ID) + "/empty"
	}
	now := h.cfg.Now()
	toList := f.SpecialUse == UseSent || f.SpecialUse == UseDrafts
	vm.Correspondent = "From"
	if toList {
		vm.Correspondent = "To"
	}
	for _, m := range pg.Messages {
		from := m.From
		if toList {
			from = m.To
		}
		subject := m.Subject
		if strings.TrimSpace(subject) == "" {
			subject = "(no subject)"
		}
		vm.Rows = append(vm.Rows, vwebmail.Row{
			UID: itoa64(int64(m.UID)), Href: messageHref(f.ID, m.UID), From: from, Subject: subject,
			Date: listDate(m.Date, now), Size: size(m.Size),
			Unread: !m.Seen, Flagged: m.Flagged, Answered: m.Answered, Attachments: m.Attachments,
		})
	}
	return request.Render(c, http.StatusOK, vwebmail.List(vm))
}
