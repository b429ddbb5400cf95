package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestWebmailBodySearchBounded: a body search in a folder larger than
// webmail.MaxBodyScan reads the page and one match more, not the whole
// folder; with no match it stops after MaxBodyScan messages, or at its
// deadline, and the page says so; header searches still count from the
// stored metadata.
func TestWebmailBodySearchBounded(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		const size = webmail.MaxBodyScan + 1000
		inbox := fillFolder(t, f, size)
		ann := f.boxes["ann@a.test"].ID
		ctx := context.Background()

		// reads counts the messages a search opens.
		reads := 0
		search := func(ctx context.Context, needle string, q webmail.Query) *webmail.Page {
			t.Helper()
			reads = 0
			q.Body = func(r io.Reader) bool {
				reads++
				b, _ := io.ReadAll(r)
				return strings.Contains(string(b), needle)
			}
			pg, err := f.mail.List(ctx, ann, inbox.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			return pg
		}

		// Every message matches: the first page and one more, then stop.
		pg := search(ctx, "body of message", webmail.Query{Limit: 50})
		if len(pg.Messages) != 50 || !pg.More || pg.Stopped || pg.Total != -1 || reads != 51 {
			t.Errorf("page 1: %d messages, more %v, stopped %v, total %d, %d read; want 50, true, false, -1, 51",
				len(pg.Messages), pg.More, pg.Stopped, pg.Total, reads)
		}
		first := pg.Messages[0].UID
		pg = search(ctx, "body of message", webmail.Query{Limit: 50, Offset: 50})
		if len(pg.Messages) != 50 || !pg.More || reads != 101 || pg.Messages[0].UID == first {
			t.Errorf("page 2: %d messages, more %v, %d read; want 50, true, 101", len(pg.Messages), pg.More, reads)
		}

		// Nothing matches: it stops at the cap, not at the folder's end.
		pg = search(ctx, "nothing-like-this", webmail.Query{Limit: 50})
		if len(pg.Messages) != 0 || pg.More || !pg.Stopped || pg.Total != -1 || reads != webmail.MaxBodyScan {
			t.Errorf("no match: %d messages, more %v, stopped %v, total %d, %d read; want 0, false, true, -1, %d",
				len(pg.Messages), pg.More, pg.Stopped, pg.Total, reads, webmail.MaxBodyScan)
		}

		// Matches only past the cap are not reached: message 1 (the oldest)
		// shares its body with every 50th message, so ask for the seed's
		// own words in a folder cut to fewer reads.
		pg = search(ctx, "body of message 0\r\n", webmail.Query{Limit: 50, MaxScan: 120})
		if !pg.Stopped || reads != 120 || len(pg.Messages) != 2 {
			t.Errorf("cap 120: %d messages, stopped %v, %d read; want 2, true, 120", len(pg.Messages), pg.Stopped, reads)
		}

		// A search that reads to the end counts exactly.
		pg = search(ctx, "body of message 0\r\n", webmail.Query{Limit: 500, MaxScan: size})
		if pg.Stopped || pg.More || pg.Total != size/50 || len(pg.Messages) != size/50 || reads != size {
			t.Errorf("to the end: %d messages, total %d, stopped %v, %d read; want %d, %d, false, %d",
				len(pg.Messages), pg.Total, pg.Stopped, reads, size/50, size/50, size)
		}

		// Out of time: a deadline already passed reads nothing.
		pg = search(ctx, "body of message", webmail.Query{Limit: 50, Deadline: time.Now().Add(-time.Second)})
		if !pg.Stopped || reads != 0 || len(pg.Messages) != 0 {
			t.Errorf("deadline: stopped %v, %d read", pg.Stopped, reads)
		}

		// The request ends (the browser went away): an error, not a page.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := f.mail.List(cctx, ann, inbox.ID, webmail.Query{Limit: 50, Body: func(io.Reader) bool { return false }}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}

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
