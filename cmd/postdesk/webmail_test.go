package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Fixture messages.
const (
	wmPlain = "From: Sender One <one@remote.test>\r\nTo: ann@a.test, carl@a.test\r\nCc: dave@remote.test\r\n" +
		"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\nMessage-ID: <plain-1@remote.test>\r\n" +
		"Date: Sat, 21 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nHallo Ann, sch=F6ne Gr=FC=DFe.\r\nThe secret word is pumpernickel.\r\n"

	wmHostile = "From: evil@remote.test\r\nTo: ann@a.test\r\nSubject: hostile-html\r\nMessage-ID: <hostile@remote.test>\r\n" +
		"Date: Sat, 21 Nov 2026 11:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<p>hi</p><script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">" +
		"<a href=\"javascript:window.pwned=3\">js</a><a href=\"https://example.org/ok\">ok</a>" +
		"<img src=\"http://127.0.0.1:1/track.png\"><svg onload=\"window.pwned=4\"></svg>" +
		"<select><style><img src=x onerror=window.pwned=5></style></select>" +
		"<\u0455cript>window.pwned=6</\u0455cript>" +
		"<div style=\"width: expression(alert(1)); color: red\">css</div>" +
		"<div style=\"background-image: url(http://127.0.0.1:1/css.png)\">bg</div>" +
		"<style>@import url(http://127.0.0.1:1/imp.css);</style>" +
		"<iframe src=\"http://127.0.0.1:1/frame\"></iframe><form action=\"http://127.0.0.1:1/\"><input name=x></form>\r\n"
)

// wmAttached has a text part, an HTML part with an inline cid: image, and
// a PDF attachment.
var wmAttached = "From: Carl Example <carl@a.test>\r\nTo: ann@a.test\r\nSubject: report attached\r\nMessage-ID: <att-1@a.test>\r\n" +
	"Date: Sat, 21 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
	"--outer\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n" +
	"--rel\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n" +
	"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the report.\r\n" +
	"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See the <b>report</b>.</p><img src=\"cid:logo@a.test\" alt=logo>\r\n" +
	"--alt--\r\n" +
	"--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@a.test>\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
	base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nfakepng")) + "\r\n--rel--\r\n" +
	"--outer\r\nContent-Type: application/pdf; name=\"../../etc/re\\\"port.pdf\"\r\nContent-Disposition: attachment; filename=\"../../etc/re\\\"port.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 fake report")) + "\r\n--outer--\r\n"

func wmSimple(from, subject, body string) string {
	return "From: " + from + "\r\nTo: ann@a.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@x.test>\r\n" +
		"Date: Sat, 21 Nov 2026 09:00:00 +0000\r\n\r\n" + body + "\r\n"
}

// TestWebmailHandlers drives every webmail route through the real panel on
// each database engine, and fails if a route was left out.
func TestWebmailHandlers(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{maxSize: 64 << 10, submit: testSubmitter})
		ctx := context.Background()
		plainUID := f.deliver("ann@a.test", "", wmPlain)
		hostileUID := f.deliver("ann@a.test", "", wmHostile)
		attUID := f.deliver("ann@a.test", "", wmAttached, store.FlagFlagged)
		inbox := f.folder("ann@a.test", "INBOX")
		ib := fmt.Sprint(inbox.ID)
		msgURL := func(uid uint32) string { return fmt.Sprintf("/webmail/f/%d/m/%d", inbox.ID, uid) }

		// Sign-in in both login forms lands on INBOX.
		c := f.client()
		if got := c.login("ann/a.test"); got != "/webmail/f/"+ib {
			t.Fatalf("login ann/a.test landed on %q", got)
		}
		c = f.client()
		if got := c.login("ann@a.test"); got != "/webmail/f/"+ib {
			t.Fatalf("login ann@a.test landed on %q", got)
		}
		_, rec := c.get("/webmail", http.StatusSeeOther)
		if rec.Header().Get("Location") != "/webmail/f/"+ib {
			t.Errorf("/webmail: %s", rec.Header().Get("Location"))
		}

		// The list: newest first, unread in bold, flagged marked, sizes,
		// folders with unread counts, quota.
		d, _ := c.get("/webmail/f/"+ib, http.StatusOK)
		rows := d.Find(`[data-testid=message-row]`)
		if rows.Length() != 3 {
			t.Fatalf("INBOX lists %d messages, want 3", rows.Length())
		}
		if s := wmText(d, `[data-testid=message-row]:first-child .subject`); !strings.Contains(s, "report attached") {
			t.Errorf("first row %q, want the newest (report attached)", s)
		}
		if rows.Find(`strong`).Length() < 3 || d.Find(`[data-testid=flagged]`).Length() != 1 {
			t.Errorf("unread/flagged marks: %d strong, %d flagged", rows.Find("strong").Length(), d.Find(`[data-testid=flagged]`).Length())
		}
		if s := wmText(d, `[data-testid=message-row]:last-child`); !strings.Contains(s, "Grüße aus Köln") || !strings.Contains(s, "Sender One") || !strings.Contains(s, "B") {
			t.Errorf("plain row %q", s)
		}
		if s := wmText(d, `[data-testid=folders]`); !strings.Contains(s, "INBOX 3") || !strings.Contains(s, "Sent") || !strings.Contains(s, "Trash") {
			t.Errorf("folder list %q", s)
		}
		if s := wmText(d, `[data-testid=quota]`); !strings.Contains(s, "used") {
			t.Errorf("quota %q", s)
		}
		if s := wmText(d, `header nav`); !strings.Contains(s, "Mail") || !strings.Contains(s, "My settings") {
			t.Errorf("navigation %q", s)
		}

		// Reading: decoded subject and charset, \Seen set at once in the
		// store that IMAP reads.
		d, rec = c.get(msgURL(plainUID), http.StatusOK)
		if s := wmText(d, `[data-testid=subject]`); s != "Grüße aus Köln" {
			t.Errorf("subject %q", s)
		}
		if s := d.Find(`[data-testid=body]`).Text(); !strings.Contains(s, "schöne Grüße") {
			t.Errorf("body %q", s)
		}
		if s := wmText(d, `[data-testid=cc]`); s != "dave@remote.test" {
			t.Errorf("cc %q", s)
		}
		m, err := f.st.Message(ctx, f.boxes["ann@a.test"].ID, inbox.ID, plainUID)
		wmMust(t, err)
		if !m.Seen {
			t.Error("reading did not set \\Seen")
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("message page CSP %q", csp)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("message page X-Frame-Options %q", rec.Header().Get("X-Frame-Options"))
		}

		// Raw source: plain text, never sniffed.
		_, rec = c.get(msgURL(plainUID)+"/raw", http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("raw headers %v", rec.Header())
		}
		if !strings.Contains(rec.Body.String(), "Message-ID: <plain-1@remote.test>") {
			t.Errorf("raw body %q", wmSnippet(rec.Body.String()))
		}

		// Hostile HTML: a sandboxed frame from its own URL, sanitised,
		// under a strict policy; remote images only after "show images".
		d, _ = c.get(msgURL(hostileUID), http.StatusOK)
		fr := d.Find(`iframe[data-testid=body-frame]`)
		src, _ := fr.Attr("src")
		sb, _ := fr.Attr("sandbox")
		if src != msgURL(hostileUID)+"/html" || strings.Contains(sb, "allow-scripts") || strings.Contains(sb, "allow-same-origin") || !fr.Is("[sandbox]") {
			t.Errorf("frame src %q sandbox %q", src, sb)
		}
		show, ok := d.Find(`[data-testid=show-images]`).Attr("href")
		if !ok {
			t.Fatal("no show-images link for a message with a remote image")
		}
		_, rec = c.get(src, http.StatusOK)
		checkFrame(t, rec.Body.String(), false)
		fcsp := rec.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "img-src data:;", "frame-ancestors 'self'", "sandbox allow-popups"} {
			if !strings.Contains(fcsp, want) {
				t.Errorf("frame CSP %q lacks %q", fcsp, want)
			}
		}
		if strings.Contains(fcsp, "script-src") || strings.Contains(fcsp, "http:") {
			t.Errorf("frame CSP %q", fcsp)
		}
		if rec.Header().Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("frame X-Frame-Options %q", rec.Header().Get("X-Frame-Options"))
		}
		d, _ = c.get(show, http.StatusOK)
		src2, _ := d.Find(`iframe[data-testid=body-frame]`).Attr("src")
		_, rec = c.get(src2, http.StatusOK)
		checkFrame(t, rec.Body.String(), true)
		if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "img-src data: https: http:") {
			t.Errorf("frame CSP with images %q", rec.Header().Get("Content-Security-Policy"))
		}

		// Inline cid: image and attachment.
		d, _ = c.get(msgURL(attUID), http.StatusOK)
		atts := d.Find(`[data-testid=attachment]`)
		if atts.Length() != 1 || !strings.Contains(wmText(d, `[data-testid=attachments]`), "re_port.pdf 20 B") {
			t.Errorf("attachments %q", wmText(d, `[data-testid=attachments]`))
		}
		href, _ := atts.Attr("href")
		_, rec = c.get(href, http.StatusOK)
		if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename=re_port.pdf` || rec.Body.String() != "%PDF-1.4 fake report" ||
			rec.Header().Get("Content-Type") != "application/octet-stream" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("download: %v %q", rec.Header(), rec.Body.String())
		}
		c.get(msgURL(attUID)+"/part/99", http.StatusNotFound)
		src, _ = d.Find(`iframe[data-testid=body-frame]`).Attr("src")
		_, rec = c.get(src, http.StatusOK)
		if !strings.Contains(rec.Body.String(), `src="data:image/png;base64,`+base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nfakepng"))) {
			t.Errorf("inline image not a data: URL: %s", rec.Body.String())
		}
		d, _ = c.get(msgURL(attUID)+"?view=text", http.StatusOK)
		if !strings.Contains(d.Find(`[data-testid=body]`).Text(), "See the report.") {
			t.Errorf("text view %q", d.Find(`[data-testid=body]`).Text())
		}
		c.get(fmt.Sprintf("/webmail/f/%d/m/%d/html", inbox.ID, plainUID), http.StatusNotFound) // no HTML part

		// Search by from, to, subject and body text.
		for _, s := range []struct {
			q    string
			want int
		}{
			{"from=sender+one", 1}, {"from=CARL", 1}, {"to=dave", 1}, {"subject=report", 1}, {"body=pumpernickel", 1},
			{"body=nothing-like-this", 0}, {"from=evil&subject=hostile", 1}, {"from=evil&subject=report", 0},
		} {
			d, _ = c.get("/webmail/f/"+ib+"?"+s.q, http.StatusOK)
			if n := d.Find(`[data-testid=message-row]`).Length(); n != s.want {
				t.Errorf("search %s: %d rows, want %d", s.q, n, s.want)
			}
		}

		// Bulk actions: flags, move, delete to Trash, delete for good,
		// empty Trash.
		c.get("/webmail/f/"+ib, http.StatusOK)
		bulk := "/webmail/f/" + ib + "/bulk"
		uidv := func(uids ...uint32) []string {
			var s []string
			for _, u := range uids {
				s = append(s, fmt.Sprint(u))
			}
			return s
		}
		c.post(bulk, url.Values{"action": {"unread"}, "uid": uidv(plainUID)}, http.StatusSeeOther)
		c.post(bulk, url.Values{"action": {"flag"}, "uid": uidv(plainUID, hostileUID)}, http.StatusSeeOther)
		c.post(bulk, url.Values{"action": {"unflag"}, "uid": uidv(attUID)}, http.StatusSeeOther)
		for _, m := range f.messages("ann@a.test", "INBOX") {
			wantFlag := m.UID != attUID
			if m.Flagged != wantFlag || (m.UID == plainUID && m.Seen) {
				t.Errorf("message %d after bulk: flagged %v seen %v", m.UID, m.Flagged, m.Seen)
			}
		}
		c.post(bulk, url.Values{"action": {"read"}, "uid": uidv(plainUID, hostileUID, attUID)}, http.StatusSeeOther)
		rec = c.post(msgURL(plainUID)[:len("/webmail/f/"+ib)]+"/bulk", url.Values{"action": {"unflag"}, "uid": uidv(plainUID), "return": {"message"}}, http.StatusSeeOther)
		if rec.Header().Get("Location") != msgURL(plainUID) {
			t.Errorf("unflag from the message page went to %q", rec.Header().Get("Location"))
		}
		archive := f.folder("ann@a.test", "Archive")
		c.post(bulk, url.Values{"action": {"move"}, "to": {fmt.Sprint(archive.ID)}, "uid": uidv(attUID)}, http.StatusSeeOther)
		if n := len(f.messages("ann@a.test", "Archive")); n != 1 {
			t.Errorf("Archive holds %d after move", n)
		}
		c.post(bulk, url.Values{"action": {"delete"}, "uid": uidv(hostileUID)}, http.StatusSeeOther)
		trash := f.folder("ann@a.test", "Trash")
		if n := len(f.messages("ann@a.test", "Trash")); n != 1 {
			t.Fatalf("Trash holds %d after delete", n)
		}
		d, _ = c.get(fmt.Sprintf("/webmail/f/%d", trash.ID), http.StatusOK)
		if d.Find(`[data-testid=empty-folder]`).Length() != 1 {
			t.Error("Trash has no empty button")
		}
		trashed := f.messages("ann@a.test", "Trash")[0]
		c.post(fmt.Sprintf("/webmail/f/%d/bulk", trash.ID), url.Values{"action": {"delete"}, "uid": uidv(trashed.UID)}, http.StatusSeeOther)
		if n := len(f.messages("ann@a.test", "Trash")); n != 0 {
			t.Errorf("Trash holds %d after delete for good", n)
		}
		c.post(bulk, url.Values{"action": {"delete"}, "uid": uidv(plainUID)}, http.StatusSeeOther)
		c.post(fmt.Sprintf("/webmail/f/%d/empty", trash.ID), nil, http.StatusSeeOther)
		if n := len(f.messages("ann@a.test", "Trash")); n != 0 {
			t.Errorf("Trash holds %d after empty", n)
		}
		c.post(fmt.Sprintf("/webmail/f/%d/empty", inbox.ID), nil, http.StatusBadRequest)
		c.post(bulk, url.Values{"action": {"explode"}, "uid": uidv(1)}, http.StatusBadRequest)
		if u, _, _ := f.st.Usage(ctx, f.boxes["ann@a.test"].ID); u != int64(len(wmAttached)) {
			t.Errorf("usage after emptying Trash %d, want %d", u, len(wmAttached))
		}

		// Folders: create, rename, delete; special folders stay.
		c.get("/webmail/folders", http.StatusOK)
		c.post("/webmail/folders", url.Values{"name": {"Projects/2026"}}, http.StatusSeeOther)
		rec = c.post("/webmail/folders", url.Values{"name": {"Projects/2026"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "exists already") {
			t.Errorf("duplicate folder: %s", wmSnippet(rec.Body.String()))
		}
		rec = c.post("/webmail/folders", url.Values{"name": {"a/../b"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "folder name") {
			t.Errorf("bad folder name: %s", wmSnippet(rec.Body.String()))
		}
		p := f.folder("ann@a.test", "Projects/2026")
		c.post(fmt.Sprintf("/webmail/f/%d/rename", p.ID), url.Values{"name": {"Work/2026"}}, http.StatusSeeOther)
		if _, err := f.st.Folder(ctx, f.boxes["ann@a.test"].ID, "Work/2026"); err != nil {
			t.Errorf("renamed folder: %v", err)
		}
		c.post(fmt.Sprintf("/webmail/f/%d/rename", inbox.ID), url.Values{"name": {"Other"}}, http.StatusUnprocessableEntity)
		c.post(fmt.Sprintf("/webmail/f/%d/delete", trash.ID), nil, http.StatusUnprocessableEntity)
		f.deliver("ann@a.test", "Work/2026", wmSimple("x@y.test", "filed", "x"))
		c.get("/webmail/folders", http.StatusOK)
		c.post(fmt.Sprintf("/webmail/f/%d/delete", p.ID), nil, http.StatusUnprocessableEntity)
		c.post(fmt.Sprintf("/webmail/f/%d/delete", p.ID), url.Values{"confirm": {"yes"}}, http.StatusSeeOther)
		if _, err := f.st.Folder(ctx, f.boxes["ann@a.test"].ID, "Work/2026"); err == nil {
			t.Error("deleted folder is still there")
		}

		testCompose(t, f, c)
		testSend(t, f)

		// Directory: the own domain's mailboxes only.
		_, rec = c.get("/webmail/directory?q=ex", http.StatusOK)
		if b := rec.Body.String(); !strings.Contains(b, "carl@a.test") || strings.Contains(b, "b.test") {
			t.Errorf("directory %s", b)
		}

		// CSRF: no action without the session's token.
		for _, path := range []string{bulk, "/webmail/folders", "/webmail/compose", fmt.Sprintf("/webmail/f/%d/empty", trash.ID),
			fmt.Sprintf("/webmail/f/%d/rename", archive.ID), fmt.Sprintf("/webmail/f/%d/delete", archive.ID)} {
			c.post(path, url.Values{"csrf": {"wrong"}, "action": {"read"}, "name": {"x"}}, http.StatusForbidden)
		}

		// A mailbox whose webmail login is off can't sign in; a
		// postmaster reaches webmail from the navigation.
		nc := f.client()
		nc.get("/login", http.StatusOK)
		rec = nc.post("/login", url.Values{"login": {"nomail@a.test"}, "password": {wmPW}}, http.StatusForbidden)
		if !strings.Contains(rec.Body.String(), "may not sign in to webmail") {
			t.Errorf("webmail-less login: %s", wmSnippet(rec.Body.String()))
		}
		pc := f.client()
		if got := pc.login("pm@a.test"); got != "/d/a.test" {
			t.Errorf("postmaster landed on %q", got)
		}
		d, _ = pc.get("/d/a.test", http.StatusOK)
		if s := wmText(d, "header nav"); !strings.Contains(s, "Mail") {
			t.Errorf("postmaster navigation %q", s)
		}
		pc.get("/webmail", http.StatusSeeOther)

		testContacts(t, f)

		if missing := f.unhitRoutes(); len(missing) > 0 {
			t.Errorf("webmail routes without a handler test: %v", missing)
		}
	})
}

// checkFrame checks a message frame's document: nothing of the hostile
// message that would run or load is left.
func checkFrame(t *testing.T, body string, images bool) {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	wmMust(t, err)
	if d.Find("script, iframe, form, input, svg, style, link, object, embed, base, meta[http-equiv]").Length() > 0 {
		t.Errorf("frame keeps active elements: %s", body)
	}
	d.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			v := strings.ToLower(a.Val)
			if strings.HasPrefix(a.Key, "on") || strings.Contains(v, "javascript:") || strings.Contains(v, "expression") || strings.Contains(v, "url(") {
				t.Errorf("frame keeps <%s %s=%q>", goquery.NodeName(s), a.Key, a.Val)
			}
		}
	})
	if strings.Contains(body, "pwned") && (strings.Contains(body, "<script") || strings.Contains(body, "onerror")) {
		t.Errorf("frame keeps a payload: %s", body)
	}
	if strings.Contains(body, "<ѕcript>") {
		t.Errorf("look-alike tag kept as a tag: %s", body)
	}
	ok := d.Find(`a[href="https://example.org/ok"]`)
	if rel, _ := ok.Attr("rel"); ok.Length() != 1 || rel != "noopener noreferrer" || ok.AttrOr("target", "") != "_blank" {
		t.Errorf("safe link: %d, rel %q", ok.Length(), rel)
	}
	remote := d.Find(`img[src^="http://127.0.0.1:1/"]`).Length()
	if images && remote != 1 || !images && remote != 0 {
		t.Errorf("remote images shown: %d (asked for: %v)", remote, images)
	}
	if !strings.Contains(body, "color: red") {
		t.Errorf("harmless style dropped: %s", body)
	}
}
