// Package viewmodel writes values as pages show them (times, sizes,
// counts, pagers, links) and reads the few typed inputs pages share
// (dates, lists). It knows nothing of requests: handlers call it to fill
// views' view models.
package viewmodel

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/postdesk/postdesk/views"
)

// When formats a time for a page, in UTC; "never" for none.
func When(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// Date formats a date for a date input; "" for none.
func Date(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// EndDate writes the end of a period as ParseEnd reads it back: an end
// at midnight UTC is shown as the day before, the last day it covers.
func EndDate(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	u := t.UTC()
	if u.Equal(u.Truncate(24 * time.Hour)) {
		u = u.AddDate(0, 0, -1)
	}
	return u.Format(time.DateOnly)
}

// Count formats "1,234 things", with singular for one.
func Count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return humanize.Comma(n) + " " + many
}

// PageSize is the length of a panel list page.
const PageSize = 50

// MakePager builds the paging line of a list whose page URL is base with
// query q (page replaced).
func MakePager(base string, q url.Values, page int, total int64, one, many string) views.Pager {
	pages := int((total + PageSize - 1) / PageSize)
	p := views.Pager{Page: page, Pages: max(pages, 1), Total: Count(total, one, many)}
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		return base + "?" + v.Encode()
	}
	if page > 1 {
		p.PrevHref = link(min(page-1, max(pages, 1)))
	}
	if page < pages {
		p.NextHref = link(page + 1)
	}
	return p
}

// MailboxHref is the URL of a mailbox's page.
func MailboxHref(domain, local string) string {
	return fmt.Sprintf("/d/%s/mailboxes/%s", url.PathEscape(domain), url.PathEscape(local))
}

// Num formats a number with thousands separators.
func Num(n int64) string { return humanize.Comma(n) }
