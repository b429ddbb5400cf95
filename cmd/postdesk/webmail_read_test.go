package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestWebmailReadParts: the read page takes a message's parts from the
// store's recorded parts: text decoded from its charset, further inline
// text appended, attachments named safely (a bidi override goes) with
// their decoded size, an attached message as one part, and a part
// downloaded by its number; a number past the last part is not found.
func TestWebmailReadParts(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{})
		msg := "From: =?iso-8859-1?q?J=F6rg?= <j@x.test>\r\nSubject: =?utf-8?b?w5xiZXJzaWNodA==?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n" +
			"--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nfooter\r\n" +
			"--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename*=utf-8''%E2%80%AEgpj.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n" +
			"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n"
		uid := f.deliver("ann@a.test", "", msg)
		self := fmt.Sprintf("/webmail/f/%d/m/%d", f.folder("ann@a.test", "INBOX").ID, uid)
		c := f.client()
		c.login("ann@a.test")
		d, _ := c.get(self, http.StatusOK)
		if s := wmText(d, `[data-testid=subject]`); s != "Übersicht" {
			t.Errorf("subject %q", s)
		}
		if b := d.Find(`[data-testid=body]`).Text(); b != "Привет\n\nfooter" {
			t.Errorf("text %q", b)
		}
		var names, hrefs []string
		for _, n := range d.Find(`[data-testid=attachment]`).Nodes {
			names = append(names, n.FirstChild.Data)
			for _, a := range n.Attr {
				if a.Key == "href" {
					hrefs = append(hrefs, a.Val)
				}
			}
		}
		if strings.Join(names, ",") != "gpj.exe,part-4.eml" || len(hrefs) != 2 || hrefs[0] != self+"/part/3" {
			t.Errorf("attachments %v %v", names, hrefs)
		}
		if rec := c.do(http.MethodGet, self+"/part/3", nil, ""); rec.Code != http.StatusOK || rec.Body.String() != "PK\x03\x04" {
			t.Errorf("part 3: %d %q", rec.Code, rec.Body.String())
		}
		if rec := c.do(http.MethodGet, self+"/part/4", nil, ""); rec.Code != http.StatusOK || rec.Body.String() != "Subject: inner\r\n\r\ninner body" {
			t.Errorf("part 4: %d %q", rec.Code, rec.Body.String())
		}
		if rec := c.do(http.MethodGet, self+"/part/9", nil, ""); rec.Code != http.StatusNotFound {
			t.Errorf("part 9: %d", rec.Code)
		}
	})
}

// TestWebmailReadLimits: a message nested deeper than the MIME limits, or
// with more parts, is shown up to them, and the page says so.
func TestWebmailReadLimits(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{maxSize: 8 << 20})
		var b strings.Builder
		b.WriteString("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		const depth = 5000
		for i := 0; i < depth; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
		}
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\ndeepest\r\n", depth)
		var many strings.Builder
		many.WriteString("Subject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for i := 0; i < 10010; i++ {
			many.WriteString("--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n")
		}
		many.WriteString("--b--\r\n")
		inbox := f.folder("ann@a.test", "INBOX")
		c := f.client()
		c.login("ann@a.test")
		for _, m := range []struct{ msg, note string }{
			{b.String(), "more parts, or deeper nesting, than webmail shows"},
			{many.String(), "more than 1,000 parts"},
		} {
			uid := f.deliver("ann@a.test", "", m.msg)
			d, rec := c.get(fmt.Sprintf("/webmail/f/%d/m/%d", inbox.ID, uid), http.StatusOK)
			if !strings.Contains(wmText(d, `[data-testid=note]`), m.note) || strings.Contains(rec.Body.String(), "deepest") {
				t.Errorf("notes %q, want %q", wmText(d, `[data-testid=note]`), m.note)
			}
			if n := d.Find(`[data-testid=attachment]`).Length(); n > 1000 {
				t.Errorf("%d attachments listed", n)
			}
		}
	})
}
