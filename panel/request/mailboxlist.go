package request

import (
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/views"
)

// MailboxList builds a mailbox list page from the request's search, sort
// and page parameters: one domain's mailboxes, or (domain empty) every
// domain's the scope reaches. Paging is done by the database, so a domain
// of 20,000 mailboxes costs one page of rows.
func (e *Env) MailboxList(c echo.Context, sc tenants.Scope, domain address.Domain, base string) (views.MailboxListPage, error) {
	search := strings.TrimSpace(c.QueryParam("q"))
	sort := c.QueryParam("sort")
	switch sort {
	case "address", "name", "created", "last_login":
	default:
		sort = "address"
	}
	desc := c.QueryParam("desc") == "1"
	page := PageNumber(c)
	rows, total, err := e.Tenants.Mailboxes(c.Request().Context(), sc, tenants.MailboxQuery{
		Domain: domain, Search: search, Sort: sort, Desc: desc, Limit: viewmodel.PageSize, Offset: (page - 1) * viewmodel.PageSize,
	})
	if err != nil {
		return views.MailboxListPage{}, err
	}
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	q.Set("sort", sort)
	if desc {
		q.Set("desc", "1")
	}
	vm := views.MailboxListPage{Action: base, Search: search, Sort: sort, Desc: desc,
		Pager: viewmodel.MakePager(base, q, page, total, "mailbox", "mailboxes")}
	for _, col := range []struct{ key, label string }{{"address", "Address"}, {"name", "Full name"}, {"created", "Created"}, {"last_login", "Last login"}} {
		v := url.Values{}
		if search != "" {
			v.Set("q", search)
		}
		v.Set("sort", col.key)
		sc := views.SortColumn{Label: col.label}
		if col.key == sort {
			sc.Active = "▲"
			if desc {
				sc.Active = "▼"
			} else {
				v.Set("desc", "1")
			}
		}
		sc.Href = base + "?" + v.Encode()
		vm.Columns = append(vm.Columns, sc)
	}
	now := time.Now()
	for _, m := range rows {
		vm.Rows = append(vm.Rows, MailboxRow(&m, now))
	}
	return vm, nil
}

// MailboxRow formats a mailbox for a list.
func MailboxRow(m *tenants.MailboxInfo, now time.Time) views.MailboxRow {
	status := "active"
	switch {
	case !m.Active:
		status = "disabled"
	case m.Expired(now):
		status = "expired"
	}
	var flags []string
	if m.Postmaster {
		flags = append(flags, "postmaster")
	}
	if !m.StoreMail {
		flags = append(flags, "forward only")
	}
	if !m.MaySend {
		flags = append(flags, "may not send")
	}
	return views.MailboxRow{
		Address: m.Address, Href: viewmodel.MailboxHref(m.Domain, m.LocalPart), Domain: m.Domain, FullName: m.FullName,
		Quota: quotaText(m), Status: status, LastLogin: viewmodel.When(m.LastLoginAt),
		Created: viewmodel.When(&m.CreatedAt), Aliases: viewmodel.Num(m.Aliases), Flags: strings.Join(flags, ", "),
	}
}

// quotaText says a mailbox's quota as a size, marked when it is the
// domain's default.
func quotaText(m *tenants.MailboxInfo) string {
	n, domains := m.EffectiveQuota()
	text := "no limit"
	if n > 0 {
		text = tenants.FormatSize(n)
	}
	if domains {
		text += " (domain's)"
	}
	return text
}
