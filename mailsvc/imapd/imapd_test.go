package imapd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

func TestLoginForms(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, login := range []string{"john@example.test", "john/example.test", "JOHN@Example.Test"} {
			c := e.client(login, nil)
			tcheck(t, c.Logout().Wait(), "logout")
		}
		// Wrong password, unknown user, administrator without a mailbox.
		c, err := imapclient.DialTLS(e.tlsAddr, &imapclient.Options{TLSConfig: e.clientTLS})
		tcheck(t, err, "dial")
		defer c.Close()
		var ie *imap.Error
		if err := c.Login("john@example.test", "wrong").Wait(); !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("wrong password: %v", err)
		}
		if err := c.Login("nobody@example.test", password).Wait(); !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("unknown user: %v", err)
		}
		// AUTHENTICATE PLAIN works too.
		r := e.raw(true)
		r.expect("a", "AUTHENTICATE PLAIN "+saslPlain("ann/example.test", password), "OK")
	})
}

func TestAccountStates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		john, _ := address.ParseAddress("john@example.test")
		off := false
		_, err := e.ts.UpdateMailbox(ctx, sc, john, tenants.MailboxUpdate{Active: &off})
		tcheck(t, err, "disable")
		r := e.raw(true)
		_, done := r.cmd("a", "LOGIN john@example.test "+quote(password))
		if !strings.Contains(done, "NO [CONTACTADMIN]") || !strings.Contains(done, "disabled") {
			t.Fatalf("inactive: %q", done)
		}
		on := true
		past := time.Now().Add(-time.Hour)
		_, err = e.ts.UpdateMailbox(ctx, sc, john, tenants.MailboxUpdate{Active: &on, ExpiresAt: &past})
		tcheck(t, err, "expire")
		_, done = r.cmd("b", "LOGIN john@example.test "+quote(password))
		if !strings.Contains(done, "NO [EXPIRED]") {
			t.Fatalf("expired: %q", done)
		}
		// Ten failures lock the account; the right password is then refused
		// too, with words that say why.
		_, err = e.ts.UpdateMailbox(ctx, sc, john, tenants.MailboxUpdate{ClearExpiry: true})
		tcheck(t, err, "unexpire")
		for i := 0; i < 10; i++ {
			r.cmd(fmt.Sprintf("f%d", i), "LOGIN john@example.test wrong-password")
		}
		_, done = r.cmd("c", "LOGIN john@example.test "+quote(password))
		if !strings.Contains(done, "NO [UNAVAILABLE]") || !strings.Contains(done, "try again later") {
			t.Fatalf("locked: %q", done)
		}
	})
}

func TestFolders(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		c := e.client("john@example.test", nil)
		list := func(options *imap.ListOptions, pattern string) map[string][]imap.MailboxAttr {
			t.Helper()
			l, err := c.List("", pattern, options).Collect()
			tcheck(t, err, "list")
			out := map[string][]imap.MailboxAttr{}
			for _, d := range l {
				out[d.Mailbox] = d.Attrs
			}
			return out
		}
		got := list(nil, "*")
		for _, f := range []struct {
			name string
			attr imap.MailboxAttr
		}{{"INBOX", ""}, {"Sent", imap.MailboxAttrSent}, {"Drafts", imap.MailboxAttrDrafts}, {"Trash", imap.MailboxAttrTrash},
			{"Junk", imap.MailboxAttrJunk}, {"Archive", imap.MailboxAttrArchive}} {
			attrs, ok := got[f.name]
			if !ok || (f.attr != "" && !slices.Contains(attrs, f.attr)) {
				t.Fatalf("default folder %s: %v in %v", f.name, attrs, got)
			}
		}
		tcheck(t, c.Create("Work/2026", nil).Wait(), "create nested")
		tcheck(t, c.Create("Projekte Ü", nil).Wait(), "create non-ASCII")
		if err := c.Create("Work", nil).Wait(); !isCode(err, imap.ResponseCodeAlreadyExists) {
			t.Fatalf("create existing: %v", err)
		}
		tcheck(t, c.Create("Receipts", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrArchive}}).Wait(), "create special use")
		got = list(nil, "%")
		if _, ok := got["Work/2026"]; ok {
			t.Fatalf("%% matched a second level: %v", got)
		}
		if _, ok := got["Projekte Ü"]; !ok {
			t.Fatalf("non-ASCII folder missing: %v", got)
		}
		got = list(&imap.ListOptions{ReturnChildren: true, ReturnSubscribed: true}, "Work*")
		if !slices.Contains(got["Work"], imap.MailboxAttrHasChildren) || !slices.Contains(got["Work/2026"], imap.MailboxAttrHasNoChildren) {
			t.Fatalf("children: %v", got)
		}
		if slices.Contains(got["Work"], imap.MailboxAttrSubscribed) {
			t.Fatalf("CREATE subscribed: %v", got)
		}
		tcheck(t, c.Subscribe("Work/2026").Wait(), "subscribe")
		got = list(&imap.ListOptions{SelectSubscribed: true}, "*")
		if _, ok := got["Work"]; ok || !slices.Contains(got["Work/2026"], imap.MailboxAttrSubscribed) {
			t.Fatalf("subscribed: %v", got)
		}
		got = list(&imap.ListOptions{SelectSpecialUse: true}, "*")
		if _, ok := got["Receipts"]; !ok || len(got) != 6 {
			t.Fatalf("special-use: %v", got)
		}
		tcheck(t, c.Rename("Work", "Jobs", nil).Wait(), "rename")
		got = list(nil, "*")
		if _, ok := got["Work"]; ok {
			t.Fatalf("after rename: %v", got)
		}
		if _, ok := got["Jobs/2026"]; !ok {
			t.Fatalf("after rename: %v", got)
		}
		tcheck(t, c.Delete("Jobs/2026").Wait(), "delete")
		if err := c.Delete("Jobs/2026").Wait(); !isCode(err, imap.ResponseCodeNonExistent) {
			t.Fatalf("delete missing: %v", err)
		}
		if err := c.Delete("INBOX").Wait(); err == nil {
			t.Fatalf("deleted INBOX")
		}
		// A subscription outlives its folder (RFC 5258 \NonExistent).
		tcheck(t, c.Subscribe("Jobs").Wait(), "subscribe")
		tcheck(t, c.Delete("Jobs").Wait(), "delete subscribed")
		got = list(&imap.ListOptions{SelectSubscribed: true}, "Jobs")
		if !slices.Contains(got["Jobs"], imap.MailboxAttrNonExistent) {
			t.Fatalf("subscribed deleted folder: %v", got)
		}
		tcheck(t, c.Unsubscribe("Jobs").Wait(), "unsubscribe")

		ns, err := c.Namespace().Wait()
		tcheck(t, err, "namespace")
		if len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' || ns.Personal[0].Prefix != "" {
			t.Fatalf("namespace %+v", ns)
		}
		e.deliver(e.john, "", msgPlain)
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, NumUnseen: true, Size: true, NumDeleted: true}).Wait()
		tcheck(t, err, "status")
		if *st.NumMessages != 1 || *st.NumUnseen != 1 || st.UIDNext != 2 || st.UIDValidity == 0 || *st.Size == 0 {
			t.Fatalf("status %+v", st)
		}
		if _, err := c.Status("Nope", &imap.StatusOptions{NumMessages: true}).Wait(); !isCode(err, imap.ResponseCodeNonExistent) {
			t.Fatalf("status missing: %v", err)
		}
	})
}

func isCode(err error, code imap.ResponseCode) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Code == code
}

func TestSelectFetch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.deliver(e.john, "", msgPlain)
		e.deliver(e.john, "", msgMultipart)
		c := e.client("john@example.test", nil)
		sd, err := c.Select("INBOX", nil).Wait()
		tcheck(t, err, "select")
		if sd.NumMessages != 2 || sd.UIDNext != 3 || sd.UIDValidity == 0 || !slices.Contains(sd.PermanentFlags, imap.FlagWildcard) {
			t.Fatalf("select %+v", sd)
		}
		msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{
			UID: true, Flags: true, Envelope: true, InternalDate: true, RFC822Size: true,
			BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
			BodySection: []*imap.FetchItemBodySection{
				{Peek: true},
				{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject", "From"}, Peek: true},
				{Specifier: imap.PartSpecifierText, Peek: true, Partial: &imap.SectionPartial{Offset: 6, Size: 4}},
			},
		}).Collect()
		tcheck(t, err, "fetch")
		if len(msgs) != 2 {
			t.Fatalf("fetched %d", len(msgs))
		}
		m := msgs[0]
		if m.UID != 1 || m.RFC822Size != int64(len(msgPlain)) || m.Envelope.Subject != "Hello there" ||
			len(m.Envelope.From) != 1 || m.Envelope.From[0].Host != "example.test" || m.Envelope.MessageID != "1@example.test" {
			t.Fatalf("message 1: %+v %+v", m, m.Envelope)
		}
		if slices.Contains(m.Flags, imap.FlagSeen) {
			t.Fatalf("PEEK set \\Seen")
		}
		var full, hdr, part []byte
		for _, bs := range m.BodySection {
			sec, b := bs.Section, bs.Bytes
			switch {
			case sec.Specifier == imap.PartSpecifierNone:
				full = b
			case sec.Specifier == imap.PartSpecifierHeader:
				hdr = b
			case sec.Specifier == imap.PartSpecifierText:
				part = b
			}
		}
		if string(full) != msgPlain {
			t.Fatalf("BODY[] %q", full)
		}
		if string(hdr) != "From: Ann <ann@example.test>\r\nSubject: Hello there\r\n\r\n" {
			t.Fatalf("HEADER.FIELDS %q", hdr)
		}
		if string(part) != "John" {
			t.Fatalf("TEXT<6.4> %q", part)
		}
		mp, ok := msgs[1].BodyStructure.(*imap.BodyStructureMultiPart)
		if !ok || mp.Subtype != "mixed" || len(mp.Children) != 2 || msgs[1].Envelope.Subject != "Grüße" {
			t.Fatalf("structure %#v", msgs[1].BodyStructure)
		}
		att := mp.Children[1].(*imap.BodyStructureSinglePart)
		if att.Type != "application" || att.Subtype != "pdf" || att.Extended.Disposition.Value != "attachment" {
			t.Fatalf("attachment %+v", att)
		}
		// A part, and BODY[] without PEEK sets \Seen.
		msgs, err = c.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Part: []int{1}}, {Part: []int{2}, Specifier: imap.PartSpecifierMIME}}}).Collect()
		tcheck(t, err, "fetch part")
		for _, bs := range msgs[0].BodySection {
			sec, b := bs.Section, bs.Bytes
			if sec.Specifier == imap.PartSpecifierNone && string(b) != "K=C3=A4se und Brot" {
				t.Fatalf("part 1 %q", b)
			}
			if sec.Specifier == imap.PartSpecifierMIME && !bytes.Contains(b, []byte("application/pdf")) {
				t.Fatalf("part 2 MIME %q", b)
			}
		}
		if !slices.Contains(msgs[0].Flags, imap.FlagSeen) {
			t.Fatalf("fetch without PEEK did not report \\Seen: %v", msgs[0].Flags)
		}
		// UID FETCH of UIDs that are not there (another user's, say)
		// returns nothing.
		ann := e.deliver(e.ann, "", msgPlain)
		msgs, err = c.Fetch(imap.UIDSetNum(imap.UID(ann)+10, 99), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
		tcheck(t, err, "fetch foreign UIDs")
		if len(msgs) != 0 {
			t.Fatalf("foreign UIDs fetched %d", len(msgs))
		}
		// EXAMINE is read-only: no \Seen, no STORE.
		_, err = c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
		tcheck(t, err, "examine")
		msgs, err = c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
		tcheck(t, err, "fetch read-only")
		if slices.Contains(msgs[0].Flags, imap.FlagSeen) {
			t.Fatalf("EXAMINE fetch set \\Seen")
		}
		if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err == nil {
			t.Fatalf("STORE in EXAMINE worked")
		}
		tcheck(t, c.Unselect().Wait(), "unselect")
	})
}

func TestStoreSearchCopyMoveExpunge(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for i := 0; i < 5; i++ {
			e.deliver(e.john, "", strings.Replace(msgPlain, "Hello there", fmt.Sprintf("Message %d", i+1), 1))
		}
		e.deliver(e.john, "", msgMultipart)
		c := e.client("john@example.test", nil)
		_, err := c.Select("INBOX", nil).Wait()
		tcheck(t, err, "select")
		msgs, err := c.Store(imap.SeqSetNum(1, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Work"}}, nil).Collect()
		tcheck(t, err, "store")
		if len(msgs) != 2 || !slices.Contains(msgs[0].Flags, "$Work") {
			t.Fatalf("store answer %+v", msgs)
		}
		for _, tc := range []struct {
			name string
			crit imap.SearchCriteria
			want []uint32
		}{
			{"flagged", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, []uint32{1, 3}},
			{"keyword", imap.SearchCriteria{Flag: []imap.Flag{"$work"}}, []uint32{1, 3}},
			{"unflagged", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagFlagged}}, []uint32{2, 4, 5, 6}},
			{"subject", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "message 4"}}}, []uint32{4}},
			{"decoded subject", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "grüße"}}}, []uint32{6}},
			{"from", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "ann@"}}}, []uint32{1, 2, 3, 4, 5, 6}},
			{"has header", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "MIME-Version"}}}, []uint32{6}},
			{"body decoded", imap.SearchCriteria{Body: []string{"käse"}}, []uint32{6}},
			{"text", imap.SearchCriteria{Text: []string{"see you"}}, []uint32{1, 2, 3, 4, 5}},
			{"larger", imap.SearchCriteria{Larger: int64(len(msgPlain) + 10)}, []uint32{6}},
			{"smaller", imap.SearchCriteria{Smaller: int64(len(msgPlain) + 10)}, []uint32{1, 2, 3, 4, 5}},
			{"sent on", imap.SearchCriteria{SentSince: day(2026, 11, 21), SentBefore: day(2026, 11, 22)}, []uint32{1, 2, 3, 4, 5}},
			{"since today", imap.SearchCriteria{Since: time.Now().Add(-48 * time.Hour)}, []uint32{1, 2, 3, 4, 5, 6}},
			{"before", imap.SearchCriteria{Before: day(2000, 1, 1)}, nil},
			{"uid set", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(2, 5, 77)}}, []uint32{2, 5}},
			{"seq and not", imap.SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 2, Stop: 0}}}, Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagFlagged}}}}, []uint32{2, 4, 5, 6}},
			{"or", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{UID: []imap.UIDSet{imap.UIDSetNum(1)}}, {UID: []imap.UIDSet{imap.UIDSetNum(6)}}}}}, []uint32{1, 6}},
		} {
			d, err := c.Search(&tc.crit, nil).Wait()
			tcheck(t, err, "search "+tc.name)
			set := d.All.(imap.SeqSet)
			got, _ := set.Nums()
			if !slices.Equal(got, tc.want) {
				t.Errorf("search %s: %v, want %v", tc.name, got, tc.want)
			}
		}

		// COPY with COPYUID, MOVE, EXPUNGE, UID EXPUNGE.
		cd, err := c.Copy(imap.SeqSetNum(1, 2), "Archive").Wait()
		tcheck(t, err, "copy")
		if cd.UIDValidity == 0 || cd.SourceUIDs.String() != "1:2" || cd.DestUIDs.String() != "1:2" {
			t.Fatalf("copyuid %+v", cd)
		}
		if _, err := c.Copy(imap.SeqSetNum(1), "Nope").Wait(); !isCode(err, imap.ResponseCodeTryCreate) {
			t.Fatalf("copy to missing folder: %v", err)
		}
		md, err := c.Move(imap.SeqSetNum(6), "Trash").Wait()
		tcheck(t, err, "move")
		if md.DestUIDs.String() != "1" {
			t.Fatalf("move %+v", md)
		}
		tcheck(t, c.Store(imap.SeqSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(), "delete")
		gone, err := c.UIDExpunge(imap.UIDSetNum(2)).Collect()
		tcheck(t, err, "uid expunge")
		if !slices.Equal(gone, []uint32{2}) {
			t.Fatalf("uid expunge %v", gone)
		}
		gone, err = c.Expunge().Collect()
		tcheck(t, err, "expunge")
		if !slices.Equal(gone, []uint32{1, 1}) { // UIDs 1 and 3: sequence numbers shift
			t.Fatalf("expunge %v", gone)
		}
		st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true}).Wait()
		tcheck(t, err, "status")
		if *st.NumMessages != 2 {
			t.Fatalf("archive has %d", *st.NumMessages)
		}
		sd, err := c.Select("INBOX", nil).Wait()
		tcheck(t, err, "reselect")
		if sd.NumMessages != 2 {
			t.Fatalf("INBOX left with %d", sd.NumMessages)
		}
	})
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func saslPlain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// TestLoginAnswers, over imapclient: an unknown name, an administrator's
// name (with the administrator's right password), and a wrong password,
// for a disabled mailbox too, get one identical NO; only the right
// password of a disabled mailbox is told it is disabled (tenants decides,
// issue 11 item 8). The administrator's guesses here never lock the
// administrator (a bare name is nobody over IMAP).
func TestLoginAnswers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sc := tenants.SystemScope("test")
		const adminPW = "Adm1n#Pass-word"
		_, err := e.ts.CreateAdmin(ctx, sc, "root", adminPW)
		tcheck(t, err, "admin")
		ann, _ := address.ParseAddress("ann@example.test")
		off := false
		_, err = e.ts.UpdateMailbox(ctx, sc, ann, tenants.MailboxUpdate{Active: &off})
		tcheck(t, err, "disable")
		c, err := imapclient.DialTLS(e.tlsAddr, &imapclient.Options{TLSConfig: e.clientTLS})
		tcheck(t, err, "dial")
		defer c.Close()
		answer := func(user, pass string) string {
			t.Helper()
			var ie *imap.Error
			if err := c.Login(user, pass).Wait(); !errors.As(err, &ie) {
				t.Fatalf("%s: %v", user, err)
			}
			return fmt.Sprintf("%s [%s] %s", ie.Type, ie.Code, ie.Text)
		}
		want := answer("john@example.test", "wrong")
		for _, c := range []struct{ what, user, pass string }{
			{"unknown name", "ghost@example.test", password},
			{"admin name, right password", "root", adminPW},
			{"admin name, wrong password", "root", "wrong"},
			{"disabled, wrong password", "ann@example.test", "wrong"},
		} {
			if got := answer(c.user, c.pass); got != want {
				t.Errorf("%s: %q, want the generic %q", c.what, got, want)
			}
		}
		if got := answer("ann@example.test", password); !strings.Contains(got, "[CONTACTADMIN]") || !strings.Contains(got, "disabled") {
			t.Errorf("disabled, right password: %q", got)
		}
		for i := range 11 {
			answer("root", fmt.Sprintf("guess-%d", i))
		}
		if _, err := e.ts.ResolveLogin(ctx, tenants.PanelLogin, "root", adminPW, "127.0.0.1:1"); err != nil {
			t.Errorf("the administrator's panel sign-in after IMAP guesses: %v", err)
		}
	})
}
