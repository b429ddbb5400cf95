package webmail

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/views"
)

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// pager builds a message list's paging line.
func pager(base string, q url.Values, page int, total int64) views.Pager {
	p := viewmodel.MakePager(base, q, page, total, "message", "messages")
	return p
}

// searchPager builds the paging line of a body search: its count when the
// search read to the folder's end, else the messages shown and "more may
// match", with a next page when a match is known to follow.
func searchPager(base string, q url.Values, page int, pg *Page) views.Pager {
	if pg.Total >= 0 {
		return pager(base, q, page, pg.Total)
	}
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		return base + "?" + v.Encode()
	}
	p := views.Pager{Page: page, Total: "More may match"}
	if n := len(pg.Messages); n > 0 {
		first := int64((page-1)*pageSize + 1)
		p.Total = fmt.Sprintf("Messages %s–%s; more may match", viewmodel.Num(first), viewmodel.Num(first+int64(n)-1))
	}
	if page > 1 {
		p.PrevHref = link(page - 1)
	}
	if pg.More {
		p.NextHref = link(page + 1)
	}
	return p
}

// searchStopped is what a list says when a body search stopped before the
// folder's end.
func searchStopped() string {
	return fmt.Sprintf("The search stopped before the end of the folder: one search reads at most %s messages, for at most %d seconds. "+
		"Older messages may match too; narrow the search by From, To or Subject.", viewmodel.Num(MaxBodyScan), int(BodySearchTime.Seconds()))
}
