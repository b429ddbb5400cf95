package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestWebmailBodySearchBounded: a body search in a folder larger than
// webmail.MaxBodyScan shows the page and says there may be more; with no
// match it stops (mailsvc/store's TestBodySearchBounded counts the reads)
// and the page says so; header searches still count from the stored
// metadata.
func TestWebmailBodySearchBounded(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		const size = webmail.MaxBodyScan + 1000
		inbox := fillFolder(t, f, size)

		// As the browser sees it.
		c := f.client()
		c.login("ann@a.test")
		base := fmt.Sprintf("/webmail/f/%d", inbox.ID)
		d, _ := c.get(base+"?body=nothing-like-this", http.StatusOK)
		if note := wmText(d, `[data-testid=search-stopped]`); !strings.Contains(note, "stopped before the end of the folder") ||
			!strings.Contains(note, "5,000 messages") {
			t.Errorf("no note that the search stopped: %q", note)
		}
		if got := wmText(d, `[data-testid=total]`); got != "More may match" {
			t.Errorf("total %q", got)
		}
		d, _ = c.get(base+"?body=body+of+message", http.StatusOK)
		if n := d.Find(`[data-testid=message-row]`).Length(); n != 50 {
			t.Errorf("%d rows", n)
		}
		if got := wmText(d, `[data-testid=total]`); got != "Messages 1–50; more may match" {
			t.Errorf("total %q", got)
		}
		if d.Find(`[data-testid=search-stopped]`).Length() != 0 {
			t.Error("a search that found its page says it stopped")
		}
		next, _ := d.Find(`[data-testid=next-page]`).Attr("href")
		if !strings.Contains(next, "page=2") || !strings.Contains(next, "body=body+of+message") {
			t.Errorf("next page %q", next)
		}
		d, _ = c.get(next, http.StatusOK)
		if got := wmText(d, `[data-testid=total]`); got != "Messages 51–100; more may match" {
			t.Errorf("page 2 total %q", got)
		}
		// Header fields are searched in the stored metadata, and counted.
		d, _ = c.get(base+"?subject=subject", http.StatusOK)
		if got := wmText(d, `[data-testid=total]`); got != "6,000 messages" {
			t.Errorf("subject search total %q", got)
		}
	})
}

// BenchmarkWebmailBodySearch measures a body search's first page in a
// 10,000-message folder, as the browser gets it: text every message has
// (the page and one more are read), and text none has (MaxBodyScan are
// read, then the search stops).
func BenchmarkWebmailBodySearch(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			f := newWMFx(b, tenantstest.Open(b, eng), wmOptions{})
			inbox := fillFolder(b, f, benchFolderSize)
			c := f.client()
			c.login("ann@a.test")
			for _, s := range []struct{ name, q string }{{"all", "body+of+message"}, {"none", "nothing-like-this"}} {
				b.Run(s.name, func(b *testing.B) {
					path := fmt.Sprintf("/webmail/f/%d?body=%s", inbox.ID, s.q)
					for b.Loop() {
						if rec := c.do(http.MethodGet, path, nil, ""); rec.Code != http.StatusOK {
							b.Fatalf("GET %s: %d", path, rec.Code)
						}
					}
				})
			}
		})
	}
}
