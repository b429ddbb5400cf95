package webmail

import (
	"net/url"
	"strconv"

	"github.com/postdesk/postdesk/panel/web"
	"github.com/postdesk/postdesk/views"
)

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// pager builds a message list's paging line.
func pager(base string, q url.Values, page int, total int64) views.Pager {
	p := web.MakePager(base, q, page, total, "message", "messages")
	return p
}
