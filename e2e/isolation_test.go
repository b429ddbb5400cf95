package e2e_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// secretsOfB are strings only b.test's objects hold; no answer to a.test's
// postmaster or key may contain one.
var secretsOfB = []string{"Secret-B", "domain b.test", "bobby", "bob-fwd", "Bob away", "Postmaster B", "dora@b.test", "bteam", "secret-member-b"}

// snapshotB is everything stored about b.test, to compare before and after
// each request; with the outbound queue, also the whole queue, its
// failures, Delivery Options and routes.
func snapshotB(t *testing.T, f *paneltest.Fx, q *queue.Queue) string {
	t.Helper()
	ctx := context.Background()
	var out []any
	ds, _, err := f.S.Domains(ctx, f.Sys, tenants.DomainQuery{Search: "b.test"})
	paneltest.Must(t, err)
	out = append(out, ds)
	ms, _, err := f.S.Mailboxes(ctx, f.Sys, tenants.MailboxQuery{Domain: "b.test"})
	paneltest.Must(t, err)
	for _, m := range ms {
		m.LastLoginAt = nil // logins are not changes
		a := address.Address{Local: address.Localpart(m.LocalPart), Domain: "b.test"}
		fw, store, err := f.S.Forwards(ctx, f.Sys, a)
		paneltest.Must(t, err)
		r, err := f.S.Responder(ctx, f.Sys, a)
		paneltest.Must(t, err)
		aps, err := f.S.AppPasswords(ctx, f.Sys, a)
		paneltest.Must(t, err)
		for i := range aps {
			aps[i].LastUsedAt = nil
		}
		rules, err := f.S.DomainRules(ctx, f.Sys, "b.test")
		paneltest.Must(t, err)
		own, defaults, _, err := f.S.MailboxRetention(ctx, f.Sys, a)
		paneltest.Must(t, err)
		out = append(out, m.Mailbox, fw, store, r, aps, rules, own, defaults)
	}
	as, _, err := f.S.SearchAliases(ctx, f.Sys, "b.test", "", 0, 0)
	paneltest.Must(t, err)
	cr, err := f.S.DomainCatchrest(ctx, f.Sys, "b.test")
	paneltest.Must(t, err)
	_, audit, err := f.S.AuditRecords(ctx, f.Sys, tenants.AuditQuery{Domain: "b.test"})
	paneltest.Must(t, err)
	gab, err := f.S.GABContacts(ctx, f.Sys, "b.test", "", 0)
	paneltest.Must(t, err)
	out = append(out, as, cr, audit, gab)
	ls, err := f.S.Lists(ctx, f.Sys, "b.test")
	paneltest.Must(t, err)
	for _, l := range ls {
		ms, err := f.S.ListMembers(ctx, f.Sys, address.Address{Local: address.Localpart(l.LocalPart), Domain: "b.test"})
		paneltest.Must(t, err)
		out = append(out, l, ms)
	}
	if q != nil {
		ms, _, err := q.QueueMessages(ctx, f.Sys, queueadmin.QueueQuery{Limit: 500})
		paneltest.Must(t, err)
		fs, _, err := q.Failures(ctx, f.Sys, 500, 0)
		paneltest.Must(t, err)
		opts, err := q.DeliveryOptions(ctx, f.Sys)
		paneltest.Must(t, err)
		rs, err := q.Routes(ctx, f.Sys)
		paneltest.Must(t, err)
		out = append(out, ms, fs, opts, rs)
	}
	b, err := json.Marshal(out)
	paneltest.Must(t, err)
	return string(b)
}

// TestIsolationWalk walks the route table: every route, with b.test's
// objects in its parameters, is tried by a.test's postmaster (panel
// routes) or a.test's API key (API routes). Nothing of b.test may show in
// the answer or change in the database. The same GET against a.test's own
// objects must work, so that the walk would notice a route that shows
// nothing to anyone. The panel has the outbound queue, with a queued
// message and a failure of each domain (:id is b.test's message, or
// a.test's for the control) and a route (:route).
func TestIsolationWalk(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		qf := newQueueFx(t, db)
		f := qf.Fx
		ctx := context.Background()
		paneltest.Must(t, f.S.AddAlias(ctx, f.Sys, paneltest.Addr("annie@a.test"), paneltest.Addr("ann@a.test")))
		for _, a := range []string{"ann@a.test", "bob@b.test"} {
			_, _, err := f.S.CreateAppPassword(ctx, f.Sys, paneltest.Addr(a), "Phone", []tenants.Protocol{tenants.IMAP})
			paneltest.Must(t, err)
		}
		idA := strconv.FormatInt(qf.enqueue("ann@a.test", "Hello from A", "x@remote.test"), 10)
		idB := strconv.FormatInt(qf.enqueue("dora@b.test", "Secret-B queued", "victim@remote.test"), 10)
		qf.fail("ann@a.test", "gone@remote.test", "550 no such user")
		qf.fail("dora@b.test", "bgone@remote.test", "550 Secret-B user gone")
		paneltest.Must(t, qf.q.SetRoute(ctx, f.Sys, queueadmin.Route{Domain: "partner.test", Relay: queueadmin.Relay{Host: "mx.partner.test"}}))
		for _, l := range []string{"team@a.test", "bteam@b.test"} {
			_, err := f.S.CreateList(ctx, f.Sys, tenants.ListInput{Address: paneltest.Addr(l)})
			paneltest.Must(t, err)
			paneltest.Must(t, f.S.AddListMembers(ctx, f.Sys, paneltest.Addr(l), []address.Address{paneltest.Addr("x@ext.test")}))
		}
		paneltest.Must(t, f.S.AddListMembers(ctx, f.Sys, paneltest.Addr("bteam@b.test"), []address.Address{paneltest.Addr("secret-member-b@ext.test")}))
		for _, c := range []struct{ d, uid, name string }{{"a.test", "gina", "Gina A"}, {"b.test", "gina", "Gina Secret-B"}} {
			card, err := tenants.ContactFields{UID: c.uid, FullName: c.name, Emails: []string{"gina@partner.test"}}.Card()
			paneltest.Must(t, err)
			_, _, err = f.S.PutGABContact(ctx, f.Sys, address.Domain(c.d), card)
			paneltest.Must(t, err)
		}
		before := snapshotB(t, f, qf.q)
		tried := 0
		for _, r := range f.E.Routes() {
			if !paneltest.IsMethod(r.Method) || strings.HasPrefix(r.Path, "/static") {
				continue
			}
			switch r.Path {
			case "/login", "/login/code", "/logout", "/healthz", "/api/v1/openapi.json":
				continue // no tenant data; /logout would end the walker's session
			case "/.well-known/mta-sts.txt":
				// Public, as a domain's MX is: the domain comes from the
				// Host, not the path or a login (panel/mtasts_test.go).
				continue
			}
			if strings.HasPrefix(r.Path, "/lists/") {
				// Lists' links: no login reaches them, the signed or
				// one-time token in the link is the authority, whoever
				// holds it (forged and used tokens: panel's and this
				// package's list tests).
				continue
			}
			tried++
			fill := func(domain, local, alias, id, list string) string {
				return strings.NewReplacer(":domain", domain, ":local", local, ":alias", alias, ":id", id, ":route", "partner.test",
					":list", list, ":member", "x@ext.test", ":uid", "gina", ":name", "Phone").Replace(r.Path)
			}
			pathB := fill("b.test", "bob", "bobby", idB, "bteam")
			pathA := fill("a.test", "ann", "annie", idA, "team")
			for _, p := range []string{":domain", ":local", ":alias", ":id", ":route", ":list", ":member", ":uid", ":name"} {
				if strings.Contains(pathB, p) {
					t.Fatalf("route %s: unknown parameter", r.Path)
				}
			}
			c := f.Client()
			var res *httptest.ResponseRecorder
			if dav := strings.HasPrefix(r.Path, "/dav") || r.Path == "/.well-known/carddav"; dav {
				// CardDAV signs in by HTTP Basic: a.test's postmaster
				// against a b.test user's book and contact; the control
				// (reading a.test's own) is panel/carddav_test.go's.
				pathB = strings.NewReplacer("/*", "/bob@b.test/books/contacts/x.vcf").Replace(r.Path)
				if r.Path == "/dav" {
					pathB = "/dav/bob@b.test/books/gab/"
				}
				c.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("pm@a.test:"+paneltest.PW)))
				res = c.Do(r.Method, pathB, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:Evil\r\nEND:VCARD\r\n")
			} else if strings.HasPrefix(r.Path, "/api/") {
				res = c.API(r.Method, pathB, f.AKey, apiBody(r.Method, r.Path))
				// The routing table and Delivery Options are an
				// administrator's: a domain key gets 403 even for its own.
				adminOnly := strings.HasPrefix(r.Path, "/api/v1/routes") || r.Path == "/api/v1/delivery"
				if r.Method == http.MethodGet && !adminOnly {
					if ctl := c.API(r.Method, pathA, f.AKey, ""); ctl.Code != http.StatusOK {
						t.Errorf("control %s %s: %d", r.Method, pathA, ctl.Code)
					}
				}
			} else {
				c.Login("pm@a.test", paneltest.PW)
				switch {
				case r.Method == http.MethodGet:
					res = c.Do(r.Method, pathB, nil)
					ctl := c.Do(r.Method, pathA, nil)
					if !strings.HasPrefix(r.Path, "/admin") && r.Path != "/" && ctl.Code != http.StatusOK {
						t.Errorf("control GET %s: %d", pathA, ctl.Code)
					}
				case strings.HasSuffix(r.Path, "/import"):
					c.Get("/d/a.test", http.StatusOK) // a page, for the CSRF token
					res = c.Do(r.Method, pathB, paneltest.Upload(url.Values{"csrf": {c.CSRF}}, "file", importFileForB))
				default:
					c.Get("/d/a.test", http.StatusOK)
					form := formBody()
					form.Set("csrf", c.CSRF)
					res = c.Do(r.Method, pathB, form)
				}
			}
			body, code := res.Body.String(), res.Code
			for _, s := range secretsOfB {
				if strings.Contains(body, s) {
					t.Errorf("%s %s (%d) shows %q of b.test", r.Method, pathB, code, s)
				}
			}
			if code < 300 && !strings.HasPrefix(r.Path, "/settings") && !strings.HasPrefix(r.Path, "/two-factor") && r.Path != "/" {
				// Only answers that refuse (3xx to sign in, 4xx) are fine for
				// b.test's objects; the own-settings and two-factor pages
				// act on the walker's own account, and / redirects.
				if !(r.Method == http.MethodGet && (r.Path == "/api/v1/domains")) {
					t.Errorf("%s %s answered %d for b.test", r.Method, pathB, code)
				}
			}
			if after := snapshotB(t, f, qf.q); after != before {
				t.Fatalf("%s %s (%d) changed b.test:\nbefore %s\nafter  %s", r.Method, pathB, code, before, after)
			}
		}
		if tried < 40 {
			t.Errorf("walked only %d routes", tried)
		}
	})
}

// importFileForB tries to create mailboxes in b.test through a.test's
// import.
const importFileForB = "username,password\nevil@b.test,Xk9#mq2!pLw7z\nbob@b.test,Xk9#mq2!pLw7z\n"

// formBody has a plausible value for every form field of the panel.
func formBody() url.Values {
	return url.Values{
		"name": {"b.test"}, "local_part": {"evil"}, "password": {paneltest.PW}, "password2": {paneltest.PW}, "current_password": {paneltest.PW},
		"full_name": {"pwned"}, "description": {"pwned"}, "aliases": {"evil evil2"}, "addresses": {"x@evil.test"},
		"mailbox": {"bob"}, "subject": {"pwned"}, "body": {"pwned"}, "enabled": {"on"}, "active": {"on"},
		"force": {"on"}, "csv": {importFileForB}, "template": {"bob"}, "postmaster": {"bob@b.test"},
		"max_mailboxes": {"1"}, "max_aliases": {"1"}, "default_quota": {"1K"}, "quota": {"1K"},
		"max_connections": {"1"}, "smart_host": {"evil.test"}, "smart_host_clear": {"on"}, "lifetime": {"1h"},
		"retry_intervals": {"1m"}, "archive_address": {"bob@b.test"}, "report_address": {"x@evil.test"},
		"domain": {"b.test"}, "host": {"evil.test"}, "protocols": {"imap"}, "require_two_factor": {"on"}, "code": {"123456"}, "retention": {"Trash 1"}, "clear_credentials": {"on"}, "return": {"list"},
	}
}

// apiBody is a well-formed body for each API operation, so that requests
// reach the tenants calls instead of failing on the JSON.
func apiBody(method, path string) string {
	switch {
	case method == http.MethodPost && strings.HasSuffix(path, "/domains"):
		return `{"name":"b.test"}`
	case method == http.MethodPost && strings.HasSuffix(path, "/mailboxes"):
		return `{"local_part":"evil","password":"` + paneltest.PW + `"}`
	case method == http.MethodPatch && !strings.Contains(path, "/mailboxes/"):
		return `{"active":false,"max_mailbox_quota_bytes":1125899906842624}`
	case method == http.MethodPatch:
		return `{"full_name":"pwned","active":false}`
	case method == http.MethodPost && strings.HasSuffix(path, "/lists"):
		return `{"local_part":"evil","owners":["x@evil.test"]}`
	case method == http.MethodPost && strings.HasSuffix(path, "/members"):
		return `{"addresses":["x@evil.test"]}`
	case method == http.MethodPost && strings.HasSuffix(path, "/aliases"):
		return `{"local_part":"evil","mailbox":"bob"}`
	case method == http.MethodPut && strings.HasSuffix(path, "/forwards"):
		return `{"addresses":["x@evil.test"],"store_mail":false}`
	case method == http.MethodPost && strings.HasSuffix(path, "/contacts"):
		return `{"uid":"gina","full_name":"pwned","emails":["x@evil.test"]}`
	case method == http.MethodPost && strings.HasSuffix(path, "/app-passwords"):
		return `{"name":"evil","protocols":["imap"]}`
	case method == http.MethodPut && strings.HasSuffix(path, "/responder"):
		return `{"enabled":true,"subject":"pwned","body":"pwned"}`
	}
	return ""
}
