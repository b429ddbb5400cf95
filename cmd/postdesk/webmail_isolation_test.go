package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestWebmailIsolation walks the ids of another user's folders and
// messages, in the same domain (carl) and in another (bob), through every
// webmail route as ann: each answers 404, and nothing of theirs changes.
func TestWebmailIsolation(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newWMFx(t, db, wmOptions{submit: submitterWithLimit(100)})
		ctx := context.Background()
		f.deliver("ann@a.test", "", wmSimple("x@y.test", "ann's own", "mine"))
		type target struct {
			owner  string
			folder *store.Folder
			uid    uint32
		}
		var targets []target
		for _, owner := range []string{"carl@a.test", "bob@b.test"} {
			uid := f.deliver(owner, "", wmAttached)
			f.deliver(owner, "Drafts", wmSimple(owner, "their draft", "secret draft"), store.FlagDraft)
			_, err := f.st.CreateFolder(ctx, f.boxes[owner].ID, "Private", "")
			wmMust(t, err)
			targets = append(targets, target{owner, f.folder(owner, "INBOX"), uid}, target{owner, f.folder(owner, "Drafts"), 1},
				target{owner, f.folder(owner, "Trash"), 0}, target{owner, f.folder(owner, "Private"), 0})
		}
		snapshot := func() string {
			var s string
			for _, owner := range []string{"carl@a.test", "bob@b.test"} {
				fs, err := f.st.Folders(ctx, f.boxes[owner].ID)
				wmMust(t, err)
				for _, fo := range fs {
					ms, err := f.st.Messages(ctx, fo.ID, nil)
					wmMust(t, err)
					s += fmt.Sprintf("%s %s:", owner, fo.Name)
					for _, m := range ms {
						s += fmt.Sprintf(" %d/%v%v%v%v", m.UID, m.Seen, m.Flagged, m.Answered, m.Deleted)
					}
					s += "\n"
				}
			}
			return s
		}
		before := snapshot()

		c := f.client()
		c.login("ann@a.test")
		own := f.folder("ann@a.test", "INBOX")
		c.get(fmt.Sprintf("/webmail/f/%d", own.ID), http.StatusOK)
		for _, tg := range targets {
			base := fmt.Sprintf("/webmail/f/%d", tg.folder.ID)
			uid := max(tg.uid, 1)
			msg := fmt.Sprintf("%s/m/%d", base, uid)
			ref := fmt.Sprintf("%d/%d", tg.folder.ID, uid)
			for _, path := range []string{base, base + "?body=secret", msg, msg + "/html", msg + "/html?images=1", msg + "/raw", msg + "/part/1",
				msg + "/part/2", "/webmail/compose?reply=" + ref, "/webmail/compose?replyall=" + ref, "/webmail/compose?forward=" + ref,
				"/webmail/compose?draft=" + ref,
				// Another mailbox's UID in the user's own folder.
				fmt.Sprintf("/webmail/f/%d/m/%d", own.ID, tg.uid+100), fmt.Sprintf("/webmail/f/%d/m/%d/raw", own.ID, tg.uid+100)} {
				c.get(path, http.StatusNotFound)
			}
			for _, a := range []string{"read", "unread", "flag", "delete", "move"} {
				c.post(base+"/bulk", url.Values{"action": {a}, "uid": {fmt.Sprint(uid)}, "to": {fmt.Sprint(own.ID)}}, http.StatusNotFound)
			}
			// Moving one's own message into their folder.
			c.post(fmt.Sprintf("/webmail/f/%d/bulk", own.ID), url.Values{"action": {"move"}, "uid": {"1"}, "to": {fmt.Sprint(tg.folder.ID)}}, http.StatusSeeOther)
			c.post(base+"/empty", nil, http.StatusNotFound)
			c.post(base+"/rename", url.Values{"name": {"Stolen"}}, http.StatusNotFound)
			c.post(base+"/delete", url.Values{"confirm": {"yes"}}, http.StatusNotFound)
			// Their message as a source of attachments, a draft to
			// replace, a message to mark answered.
			c.get("/webmail/compose", http.StatusOK)
			c.postMultipart("/webmail/compose", url.Values{"action": {"save"}, "from": {"ann@a.test"}, "source": {ref}, "keep": {"1", "2", "3"}},
				nil, http.StatusNotFound)
			c.get("/webmail/compose", http.StatusOK)
			c.postMultipart("/webmail/compose", url.Values{"action": {"send"}, "from": {"ann@a.test"}, "to": {"ann@a.test"}, "subject": {"probe"},
				"draft": {ref}, "answering": {ref}}, nil, http.StatusSeeOther)
		}
		if after := snapshot(); after != before {
			t.Errorf("other mailboxes changed:\nbefore\n%s\nafter\n%s", before, after)
		}
		if n := len(f.messages("ann@a.test", "INBOX")); n != 1+len(targets) {
			t.Errorf("ann's INBOX holds %d, want her own and her probes", n)
		}
		// The list and the directory show nothing of theirs.
		d, _ := c.get(fmt.Sprintf("/webmail/f/%d", own.ID), http.StatusOK)
		if s := wmText(d, "body"); containsAny(s, "report attached", "their draft", "Private") {
			t.Errorf("ann's page shows others' mail: %s", s)
		}
		_, rec := c.get("/webmail/directory?q=b", http.StatusOK)
		if containsAny(rec.Body.String(), "bob", "b.test") {
			t.Errorf("directory reaches another domain: %s", rec.Body.String())
		}
	})
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
