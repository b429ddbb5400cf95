package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/panel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSystemMailPages: the system mailbox (postmaster mail nobody was named
// for) is read on the administrator's System mail page, as escaped text,
// and by nobody else: a domain's postmaster and a user get no page of it.
// The same page names and clears the system postmaster.
func TestSystemMailPages(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newWMFx(t, db, wmOptions{})
		log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		e, err := panel.New(panel.Deps{Tenants: f.ten, Logger: log, Health: db.Ping, Webmail: webmailConfig(f.mail), SystemMail: systemMail{f.st}})
		wmMust(t, err)
		f.e = e
		_, err = f.ten.CreateAdmin(ctx, f.sys, "root", wmPW)
		wmMust(t, err)

		// A report for postmaster@b.test, stored as delivery stores it
		// when b.test names nobody.
		p, err := f.st.Blobs().Create(ctx)
		wmMust(t, err)
		io.WriteString(p, "From: reporter@remote.test\r\nTo: postmaster@b.test\r\nSubject: Abuse report\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script><b>spam from b.test</b>\r\n")
		_, err = f.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{System: true, Prefix: "Return-Path: <reporter@remote.test>\r\nDelivered-To: postmaster@b.test\r\n"}}})
		wmMust(t, err)
		ms, _, err := f.st.SystemMessages(ctx, f.sys, 10, 0)
		wmMust(t, err)
		if len(ms) != 1 {
			t.Fatalf("system mailbox holds %d", len(ms))
		}
		show := "/admin/system-mail/" + itoa64(ms[0].ID)

		// Nobody but an administrator reads it.
		for _, who := range []string{"pm@a.test", "bob@b.test"} {
			c := f.client()
			c.login(who)
			for _, path := range []string{"/admin/system-mail", show} {
				if rec := c.do(http.MethodGet, path, nil, ""); rec.Code != http.StatusForbidden {
					t.Errorf("%s: GET %s answered %d", who, path, rec.Code)
				} else if strings.Contains(rec.Body.String(), "spam from b.test") {
					t.Errorf("%s read the system mailbox", who)
				}
			}
			if _, _, err := f.st.SystemMessages(ctx, tenants.Scope{Role: tenants.RolePostmaster, DomainID: f.boxes[who].DomainID}, 10, 0); err == nil {
				t.Errorf("the store lists the system mailbox for %s's scope", who)
			}
		}

		c := f.client()
		c.login("root")
		d, _ := c.get("/admin/system-mail", http.StatusOK)
		if n := d.Find(`[data-testid=system-mail-row]`).Length(); n != 1 || !strings.Contains(wmText(d, `[data-testid=system-mail]`), "Abuse report") {
			t.Fatalf("list: %d rows: %s", n, wmText(d, `[data-testid=system-mail]`))
		}
		d, rec := c.get(show, http.StatusOK)
		if src := d.Find(`[data-testid=system-message-source]`).Text(); !strings.Contains(src, "Delivered-To: postmaster@b.test") || !strings.Contains(src, "<script>alert(1)</script>") {
			t.Errorf("source shown: %q", src)
		}
		if strings.Contains(rec.Body.String(), "<script>alert") || d.Find("b").Length() != 0 {
			t.Error("the message's HTML is rendered, not shown as text")
		}
		c.get("/admin/system-mail/999999", http.StatusNotFound)

		// The system postmaster: an unknown address is refused, a mailbox
		// named, and an empty field clears it.
		rec = c.post("/admin/system-mail/postmaster", url.Values{"postmaster": {"nobody@a.test"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), "not a mailbox") {
			t.Errorf("unknown system postmaster: %s", wmSnippet(rec.Body.String()))
		}
		c.post("/admin/system-mail/postmaster", url.Values{"postmaster": {"ann@a.test"}}, http.StatusSeeOther)
		if a, err := f.ten.SystemPostmaster(ctx, f.sys); err != nil || a.String() != "ann@a.test" {
			t.Errorf("system postmaster %v, %v", a, err)
		}
		d, _ = c.get("/admin/system-mail", http.StatusOK)
		if v, _ := d.Find(`#system-postmaster`).Attr("value"); v != "ann@a.test" {
			t.Errorf("form shows %q", v)
		}
		c.post("/admin/system-mail/postmaster", url.Values{"postmaster": {""}}, http.StatusSeeOther)
		if a, err := f.ten.SystemPostmaster(ctx, f.sys); err != nil || !a.IsZero() {
			t.Errorf("system postmaster after clearing %v, %v", a, err)
		}

		c.get(show, http.StatusOK)
		c.post(show+"/delete", nil, http.StatusSeeOther)
		c.get(show, http.StatusNotFound)
		if ms, _, _ := f.st.SystemMessages(ctx, f.sys, 10, 0); len(ms) != 0 {
			t.Errorf("deleted message still listed")
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
