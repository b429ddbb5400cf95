package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestWebmailManyParts: the read page of a message of 3,000 text parts
// (issue 11: 9,800 took 75 CPU-seconds) shows the first 1,000 parts and
// says that there are more, and its text stays under the bound.
func TestWebmailManyParts(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		msg := manyPartMessage(3000)
		uid := f.deliver("ann@a.test", "", msg)
		inbox := f.folder("ann@a.test", "INBOX")
		c := f.client()
		c.login("ann@a.test")
		d, rec := c.get(fmt.Sprintf("/webmail/f/%d/m/%d", inbox.ID, uid), http.StatusOK)
		body := rec.Body.String()
		// The text budget ends within the first 1,000 parts.
		if !regexp.MustCompile(`part 800\s`).MatchString(body) || regexp.MustCompile(`part 1000\s`).MatchString(body) {
			t.Errorf("the page does not show the first parts alone")
		}
		if !strings.Contains(d.Text(), "more than 1,000 parts") {
			t.Errorf("no note of the parts not shown: %s", wmSnippet(d.Text()))
		}
		// 1,000 parts of 4.6 KB: the text is the first 4 MiB of them.
		if len(body) > 4<<20+64<<10 || len(body) >= len(msg)/2 {
			t.Errorf("page of %d bytes for a message of %d", len(body), len(msg))
		}
		if !strings.Contains(d.Text(), "only its beginning is shown") {
			t.Errorf("no note of the text cut")
		}
	})
}

// gatedMail is webmail's real Mail with Walk (how a view reads a message) held, for the mailboxes in
// gated, until the test releases it: requests that stay in their heavy
// slot for as long as the test needs.
type gatedMail struct {
	*webmailMail
	gated   map[int64]bool
	entered chan int64
	release chan struct{}
}

func (g *gatedMail) Walk(ctx context.Context, mailboxID, folderID int64, uid uint32, visit func(textproto.Header, io.Reader) error) (textproto.Header, error) {
	if g.gated[mailboxID] {
		select {
		case g.entered <- mailboxID:
		case <-g.release: // released: no longer held
		}
		select {
		case <-g.release:
		case <-ctx.Done():
			return textproto.Header{}, ctx.Err()
		}
	}
	return g.webmailMail.Walk(ctx, mailboxID, folderID, uid, visit)
}

// TestWebmailHeavyLimit: a user's third message view while two are being
// read is refused (429) and another user's goes through; with the
// server's slots all taken, a view gets 503; once the views end, their
// slots are free again.
func TestWebmailHeavyLimit(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		var g *gatedMail
		f := newWMFx(t, db, wmOptions{config: func(f *wmFx, cfg *webmail.Config) {
			g = &gatedMail{webmailMail: f.mail, gated: map[int64]bool{}, entered: make(chan int64), release: make(chan struct{})}
			cfg.Mail, cfg.HeavyPerUser, cfg.HeavyTotal, cfg.HeavyWait = g, 2, 3, 50*time.Millisecond
		}})
		path := map[string]string{}
		for _, who := range []string{"ann@a.test", "bob@b.test", "carl@a.test"} {
			uid := f.deliver(who, "", wmSimple("S <s@remote.test>", "hello "+who, "text for "+who))
			path[who] = fmt.Sprintf("/webmail/f/%d/m/%d", f.folder(who, "INBOX").ID, uid)
		}
		client := func(who string) *wmClient {
			c := f.client()
			c.login(who)
			return c
		}
		ann1, ann2, ann3, bob, carl := client("ann@a.test"), client("ann@a.test"), client("ann@a.test"), client("bob@b.test"), client("carl@a.test")
		g.gated[f.boxes["ann@a.test"].ID] = true
		g.gated[f.boxes["carl@a.test"].ID] = true

		var wg sync.WaitGroup
		codes := make(chan int, 3)
		hold := func(c *wmClient, who string) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes <- c.do(http.MethodGet, path[who], nil, "").Code
			}()
			<-g.entered // in its slot, reading
		}
		hold(ann1, "ann@a.test")
		hold(ann2, "ann@a.test")
		if rec := ann3.do(http.MethodGet, path["ann@a.test"], nil, ""); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Errorf("ann's third view: %d, want 429 with Retry-After", rec.Code)
		}
		bob.get(path["bob@b.test"], http.StatusOK)
		hold(carl, "carl@a.test") // the server's third slot
		if rec := bob.do(http.MethodGet, path["bob@b.test"], nil, ""); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("bob's view with every slot taken: %d, want 503", rec.Code)
		}
		close(g.release)
		wg.Wait()
		close(codes)
		for code := range codes {
			if code != http.StatusOK {
				t.Errorf("a held view: %d", code)
			}
		}
		ann3.get(path["ann@a.test"], http.StatusOK)
		bob.get(path["bob@b.test"], http.StatusOK)
	})
}
