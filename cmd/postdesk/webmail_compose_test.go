package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// testCompose writes, replies, forwards and keeps drafts as ann.
func testCompose(t *testing.T, f *wmFx, c *wmClient) {
	ctx := context.Background()
	ann := f.boxes["ann@a.test"]
	inbox := f.folder("ann@a.test", "INBOX")
	drafts := f.folder("ann@a.test", "Drafts")
	orig := f.deliver("ann@a.test", "", "From: Carl Example <carl@a.test>\r\nTo: ann@a.test, dora@remote.test\r\nCc: carl@a.test, eve@remote.test\r\n"+
		"Reply-To: Carl Replies <carl@a.test>\r\nSubject: Re: plans\r\nMessage-ID: <plans-2@a.test>\r\nReferences: <plans-1@a.test>\r\n"+
		"Date: Sun, 22 Nov 2026 08:00:00 +0000\r\n\r\nShall we meet?\r\n> earlier\r\n")
	r := fmt.Sprintf("%d/%d", inbox.ID, orig)

	// A new message: From choices are the own addresses, the directory
	// offers the domain's mailboxes, the size limit is shown.
	d, _ := c.get("/webmail/compose?to=carl@a.test", http.StatusOK)
	if v, _ := d.Find(`#to`).Attr("value"); v != "carl@a.test" {
		t.Errorf("to= prefill %q", v)
	}
	if s := wmText(d, `#from`); !strings.Contains(s, "Ann Example <ann@a.test>") {
		t.Errorf("from choices %q", s)
	}
	if n := d.Find(`#directory option[value="Carl Example <carl@a.test>"]`).Length(); n != 1 {
		t.Errorf("directory: %s", wmText(d, `#directory`))
	}
	if d.Find(`#directory option[value*="b.test"]`).Length() != 0 {
		t.Error("directory shows another domain")
	}
	if s := wmText(d, `[data-testid=max-size]`); !strings.Contains(s, "64 KiB") {
		t.Errorf("size limit %q", s)
	}

	// Reply: to Reply-To, "Re:" once, the text quoted, threading headers.
	d, _ = c.get("/webmail/compose?reply="+r, http.StatusOK)
	if v, _ := d.Find(`#to`).Attr("value"); v != "Carl Replies <carl@a.test>" {
		t.Errorf("reply to %q", v)
	}
	if v, _ := d.Find(`#subject`).Attr("value"); v != "Re: plans" {
		t.Errorf("reply subject %q", v)
	}
	if b := d.Find(`#body`).Text(); !strings.Contains(b, "> Shall we meet?\n>> earlier") || !strings.Contains(b, "Carl Example <carl@a.test> wrote:") {
		t.Errorf("reply body %q", b)
	}
	if v, _ := d.Find(`input[name=references]`).Attr("value"); v != "plans-1@a.test plans-2@a.test" {
		t.Errorf("references %q", v)
	}
	// Reply all: everyone else in Cc, never the user.
	d, _ = c.get("/webmail/compose?replyall="+r, http.StatusOK)
	if v, _ := d.Find(`#cc`).Attr("value"); v != "dora@remote.test, eve@remote.test" {
		t.Errorf("reply-all cc %q", v)
	}
	c.get("/webmail/compose?reply=1/999999", http.StatusNotFound)
	c.get("/webmail/compose?reply=junk", http.StatusNotFound)

	// Validation: recipients, From, an unknown action.
	c.get("/webmail/compose", http.StatusOK)
	form := func(kv ...string) url.Values {
		v := url.Values{"from": {"ann@a.test"}, "action": {"send"}, "subject": {"s"}, "body": {"b"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{form(), "Give at least one recipient."},
		{form("to", "carl@a.test, not an address"), "is not an address"},
		{form("cc", "x@"), "is not an address"},
		{form("to", "carl@a.test", "from", "carl@a.test"), "Choose one of your own addresses."},
		{form("to", manyRecipients(101)), "at most 100 recipients"},
	} {
		rec := c.postMultipart("/webmail/compose", tc.form, nil, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("compose %v: want %q in\n%s", tc.form, tc.want, wmSnippet(rec.Body.String()))
		}
	}
	c.postMultipart("/webmail/compose", form("action", "launch"), nil, http.StatusBadRequest)

	// A draft with an attachment, saved, resumed, saved again: one draft,
	// with Bcc and the attachment kept.
	rec := c.postMultipart("/webmail/compose", form("action", "save", "to", "Carl <carl@a.test>", "bcc", "secret@remote.test", "subject", "Draft one",
		"body", "first words"), []upload{{"notes.txt", "attached notes"}}, http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	if !strings.HasPrefix(loc, fmt.Sprintf("/webmail/compose?draft=%d/", drafts.ID)) {
		t.Fatalf("draft saved, then %q", loc)
	}
	ds := f.messages("ann@a.test", "Drafts")
	if len(ds) != 1 || !ds[0].Draft || !ds[0].Seen {
		t.Fatalf("drafts %+v", ds)
	}
	if b := f.body(ds[0]); !strings.Contains(b, "Bcc: <secret@remote.test>") || !strings.Contains(b, "notes.txt") {
		t.Errorf("draft body %s", b)
	}
	d, _ = c.get(loc, http.StatusOK)
	if v, _ := d.Find(`#bcc`).Attr("value"); v != "secret@remote.test" {
		t.Errorf("resumed bcc %q", v)
	}
	if v, _ := d.Find(`#to`).Attr("value"); v != "Carl <carl@a.test>" {
		t.Errorf("resumed to %q", v)
	}
	if s := wmText(d, `[data-testid=kept-attachments]`); !strings.Contains(s, "notes.txt 14 B") {
		t.Errorf("resumed attachments %q", s)
	}
	keep, _ := d.Find(`input[name=keep]`).Attr("value")
	draftRef, _ := d.Find(`input[name=draft]`).Attr("value")
	rec = c.postMultipart("/webmail/compose", form("action", "save", "to", "carl@a.test", "subject", "Draft two", "body", "more words",
		"draft", draftRef, "source", draftRef, "keep", keep), nil, http.StatusSeeOther)
	ds = f.messages("ann@a.test", "Drafts")
	if len(ds) != 1 {
		t.Fatalf("%d drafts after saving again, want 1", len(ds))
	}
	if b := f.body(ds[0]); !strings.Contains(b, "Draft two") || !strings.Contains(b, "notes.txt") || !strings.Contains(b, "YXR0YWNoZWQgbm90ZXM=") {
		t.Errorf("second draft %s", b)
	}
	d, _ = c.get(fmt.Sprintf("/webmail/f/%d/m/%d", drafts.ID, ds[0].UID), http.StatusOK)
	if d.Find(`[data-testid=edit-draft]`).Length() != 1 {
		t.Error("a draft's page has no Continue writing link")
	}

	// Forward keeps the original's attachments.
	archive := f.folder("ann@a.test", "Archive")
	att := f.messages("ann@a.test", "Archive")[0]
	d, _ = c.get(fmt.Sprintf("/webmail/compose?forward=%d/%d", archive.ID, att.UID), http.StatusOK)
	if s := wmText(d, `[data-testid=kept-attachments]`); !strings.Contains(s, "re_port.pdf") {
		t.Errorf("forward attachments %q", s)
	}
	if v, _ := d.Find(`#subject`).Attr("value"); v != "Fwd: report attached" {
		t.Errorf("forward subject %q", v)
	}
	if b := d.Find(`#body`).Text(); !strings.Contains(b, "---------- Forwarded message ----------") || !strings.Contains(b, "See the report.") {
		t.Errorf("forward body %q", b)
	}

	// The size limit: files over it are refused with the limit named.
	rec = c.postMultipart("/webmail/compose", form("action", "save", "to", "carl@a.test"), []upload{{"big.bin", strings.Repeat("x", 60<<10)}}, http.StatusUnprocessableEntity)
	if !strings.Contains(rec.Body.String(), "over the limit of 64 KiB") || !strings.Contains(rec.Body.String(), "attach your files again") {
		t.Errorf("too big: %s", wmSnippet(rec.Body.String()))
	}
	rec = c.postMultipart("/webmail/compose", form("action", "save", "to", "carl@a.test"), []upload{{"huge.bin", strings.Repeat("x", 70<<10)}}, http.StatusUnprocessableEntity)
	if !strings.Contains(rec.Body.String(), "larger than the limit of 64 KiB") {
		t.Errorf("too big: %s", wmSnippet(rec.Body.String()))
	}
	rec = c.postMultipart("/webmail/compose", form("action", "save"), []upload{{"vast.bin", strings.Repeat("x", 1200<<10)}}, http.StatusRequestEntityTooLarge)
	if !strings.Contains(rec.Body.String(), "larger than the server takes") {
		t.Errorf("request too large: %s", wmSnippet(rec.Body.String()))
	}

	// Quota: a full mailbox refuses a draft and says so.
	used, _, err := f.st.Usage(ctx, ann.ID)
	wmMust(t, err)
	q := used + 100
	_, err = f.ten.UpdateMailbox(ctx, f.sys, address.Address{Local: "ann", Domain: "a.test"}, tenants.MailboxUpdate{QuotaBytes: &q})
	wmMust(t, err)
	rec = c.postMultipart("/webmail/compose", form("action", "save", "subject", "no room", "body", strings.Repeat("words ", 100)), nil, http.StatusUnprocessableEntity)
	if !strings.Contains(rec.Body.String(), "Your mailbox is full: the draft was not saved.") {
		t.Errorf("full mailbox: %s", wmSnippet(rec.Body.String()))
	}
	if n := len(f.messages("ann@a.test", "Drafts")); n != 1 {
		t.Errorf("%d drafts after a refused save", n)
	}
	zero := int64(0)
	_, err = f.ten.UpdateMailbox(ctx, f.sys, address.Address{Local: "ann", Domain: "a.test"}, tenants.MailboxUpdate{QuotaBytes: &zero})
	wmMust(t, err)
}

func manyRecipients(n int) string {
	var s []string
	for i := range n {
		s = append(s, fmt.Sprintf("r%d@remote.test", i))
	}
	return strings.Join(s, ", ")
}
