package delivery_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// sieve stores and activates a script for a mailbox.
func (f *fx) sieve(a, script string) {
	f.t.Helper()
	tcheck(f.t, f.ten.PutSieveScript(f.ctx, sys, addr(a), "main", script), "put script of "+a)
	tcheck(f.t, f.ten.SetActiveSieveScript(f.ctx, sys, addr(a), "main"), "activate script of "+a)
}

// folder returns the messages of one folder of a mailbox (none when the
// folder does not exist).
func (f *fx) folder(a, name string) []store.Message {
	f.t.Helper()
	fo, err := f.st.Folder(f.ctx, f.ids[a], name)
	if errors.Is(err, store.ErrNoFolder) {
		return nil
	}
	tcheck(f.t, err, "folder "+name)
	ms, err := f.st.Messages(f.ctx, fo.ID, nil)
	tcheck(f.t, err, "messages of "+name)
	return ms
}

// TestSieveDelivery runs users' scripts through real delivery: fileinto
// with flags, header and body tests, discard, and the implicit keep of a
// script that fails while it runs.
func TestSieveDelivery(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		f.mailbox("john@example.test", nil)
		tcheck(t, f.st.EnsureFolders(f.ctx, f.ids["john@example.test"]), "folders")
		_, err := f.st.CreateFolder(f.ctx, f.ids["john@example.test"], "Lists/Go", "")
		tcheck(t, err, "folder")
		f.sieve("john@example.test", `require ["fileinto", "imap4flags", "body", "envelope", "copy"];
if header :contains "subject" "golang" { fileinto :flags ["\\Seen", "$Go"] "Lists/Go"; stop; }
if body :text :contains "casino" { fileinto "Junk"; stop; }
if envelope :is "from" "noise@sender.test" { discard; stop; }
if header :contains "subject" "nowhere" { fileinto "Not/There"; stop; }
if header :contains "subject" "both" { fileinto :copy "Archive"; }
`)
		send := func(from, subject, body string) {
			t.Helper()
			m := msg(from, "john@example.test", subject, "")
			m = strings.Replace(m, "Hello "+subject, body, 1)
			_, err := f.deliver(from, []string{"john@example.test"}, m)
			tcheck(t, err, "deliver "+subject)
		}
		send("a@sender.test", "=?utf-8?q?about_golang?=", "hi")
		send("a@sender.test", "offer", "win at the casino now")
		send("noise@sender.test", "noise", "x")
		send("a@sender.test", "nowhere", "x")
		send("a@sender.test", "both", "x")
		send("a@sender.test", "plain", "x")

		goMsgs := f.folder("john@example.test", "Lists/Go")
		if len(goMsgs) != 1 || !goMsgs[0].Seen || !strings.Contains(goMsgs[0].Keywords, "$Go") {
			t.Errorf("Lists/Go holds %+v, want one seen message with $Go", goMsgs)
		}
		if n := len(f.folder("john@example.test", "Junk")); n != 1 {
			t.Errorf("Junk holds %d, want 1 (body test)", n)
		}
		if n := len(f.folder("john@example.test", "Archive")); n != 1 {
			t.Errorf("Archive holds %d, want 1 (fileinto :copy)", n)
		}
		// nowhere (unknown folder: INBOX), both (kept too), plain.
		if n := len(f.folder("john@example.test", "INBOX")); n != 3 {
			t.Errorf("INBOX holds %d, want 3", n)
		}
		if n := f.count("john@example.test"); n != 6 {
			t.Errorf("john holds %d messages, want 6 (one discarded)", n)
		}
		if fo, _ := f.st.Folder(f.ctx, f.ids["john@example.test"], "Not/There"); fo != nil {
			t.Error("a fileinto created a folder")
		}
	})
}

// TestSieveRedirect: a redirect is a forward. A remote one leaves with an
// SRS sender within the mailbox's send permission and limits; one the
// mailbox may not send is kept; a redirect loop between two mailboxes
// keeps the message rather than losing it; the redirects of one run are
// bounded.
func TestSieveRedirect(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{MailboxPerHour: 2, MailboxPerDay: 100, DomainPerHour: 100, DomainPerDay: 100})
		f.mailbox("john@example.test", nil)
		f.mailbox("mute@example.test", func(s *tenants.MailboxSettings) { s.MaySend = false })
		f.mailbox("ping@example.test", nil)
		f.mailbox("pong@example.test", nil)
		f.mailbox("many@example.test", nil)
		f.sieve("john@example.test", `redirect "out@remote.test";`)
		f.sieve("mute@example.test", `redirect "out@remote.test";`)
		f.sieve("ping@example.test", `redirect "pong@example.test";`)
		f.sieve("pong@example.test", `redirect "ping@example.test";`)
		f.sieve("many@example.test", `redirect "a@remote.test"; redirect "b@remote.test"; redirect "c@remote.test"; redirect "d@remote.test"; redirect "e@remote.test";`)
		send := func(to string) *delivery.Result {
			t.Helper()
			res, err := f.deliver("someone@sender.test", []string{to}, msg("someone@sender.test", to, "hi", ""))
			tcheck(t, err, "deliver to "+to)
			return res
		}
		if res := send("john@example.test"); res.Queued != 1 || res.Stored != 0 {
			t.Errorf("redirect: %+v, want queued, not stored", res)
		}
		q := f.queued()
		if len(q) != 1 || q[0].Kind != delivery.KindForward || !strings.HasPrefix(strings.ToUpper(q[0].From), "SRS0=") {
			t.Errorf("queued %+v, want one forward with an SRS sender", q)
		}
		// The send limit (2 an hour) counts redirects: the third stays.
		send("john@example.test")
		if res := send("john@example.test"); res.Queued != 0 || res.Stored != 1 {
			t.Errorf("past the send limit: %+v, want kept", res)
		}
		if res := send("mute@example.test"); res.Queued != 0 || f.count("mute@example.test") != 1 {
			t.Errorf("mailbox without send permission: %+v, want kept", res)
		}
		send("ping@example.test")
		if n := f.count("ping@example.test") + f.count("pong@example.test"); n != 1 {
			t.Errorf("redirect loop: %d copies kept, want 1", n)
		}
		// More redirects than a run may make: the script fails and the
		// message is kept, nothing sent.
		if res := send("many@example.test"); res.Queued != 0 || f.count("many@example.test") != 1 {
			t.Errorf("too many redirects: %+v, want kept", res)
		}
	})
}

// TestSieveReject: a reject of the one recipient refuses the message with
// the script's reason (made safe for SMTP); with several recipients it
// can't, and the message is kept.
func TestSieveReject(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		f.mailbox("john@example.test", nil)
		f.mailbox("jane@example.test", nil)
		f.sieve("john@example.test", "require \"reject\";\nreject text:\r\nGo away\r\nnow\r\n.\r\n;")
		_, err := f.deliver("someone@sender.test", []string{"john@example.test"}, msg("someone@sender.test", "john@example.test", "hi", ""))
		var rej *delivery.SieveRejection
		if !errors.As(err, &rej) || rej.Reason != "Go away now" {
			t.Fatalf("reject: %v, want a SieveRejection 'Go away now'", err)
		}
		if n := f.count("john@example.test"); n != 0 {
			t.Errorf("john holds %d after a reject", n)
		}
		_, err = f.deliver("someone@sender.test", []string{"john@example.test", "jane@example.test"}, msg("someone@sender.test", "john@example.test", "hi", ""))
		tcheck(t, err, "deliver to two")
		if n := f.count("john@example.test"); n != 1 {
			t.Errorf("john holds %d, want the message kept", n)
		}
	})
}

// TestSieveBounds: scripts past the bounds are refused when stored, with
// nothing written: a 1 MB script, 10,000 nested ifs, vacation (not
// offered).
func TestSieveBounds(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newFx(t, db, delivery.RateLimits{})
		f.mailbox("john@example.test", nil)
		big := "# " + strings.Repeat("x", 1<<20) + "\r\nkeep;"
		nested := strings.Repeat("if true {", 10000) + strings.Repeat("}", 10000)
		for name, s := range map[string]string{"big": big, "nested": nested, "vacation": `require "vacation"; vacation "away";`, "syntax": `if {`} {
			err := f.ten.PutSieveScript(f.ctx, sys, addr("john@example.test"), name, s)
			var ve *tenants.ValidationError
			if !errors.As(err, &ve) && !errors.Is(err, tenants.ErrOverQuota) {
				t.Errorf("%s: %v, want a validation or quota error", name, err)
			}
		}
		scripts, err := f.ten.SieveScripts(f.ctx, sys, addr("john@example.test"))
		tcheck(t, err, "list")
		if len(scripts) != 0 {
			t.Errorf("%d scripts stored, want none", len(scripts))
		}
		for i := 0; i < tenants.MaxSieveScripts; i++ {
			tcheck(t, f.ten.PutSieveScript(f.ctx, sys, addr("john@example.test"), "s"+string(rune('a'+i)), "keep;"), "put")
		}
		if err := f.ten.PutSieveScript(f.ctx, sys, addr("john@example.test"), "one-more", "keep;"); !errors.Is(err, tenants.ErrOverQuota) {
			t.Errorf("script past the count: %v, want ErrOverQuota", err)
		}
	})
}
