package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func tcheck(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// env makes a store with two mailboxes on db.
func env(t *testing.T, db *database.DB) (*store.Store, int64, int64) {
	ctx := context.Background()
	ts := tenantstest.Service(db, nil)
	sc := tenants.SystemScope("test")
	d, _ := address.ParseDomain("example.test")
	_, err := ts.CreateDomain(ctx, sc, d, "")
	tcheck(t, err, "domain")
	var ids []int64
	for _, l := range []string{"john", "ann"} {
		m, err := ts.CreateMailbox(ctx, sc, tenants.NewMailbox{Address: address.Address{Local: address.Localpart(l), Domain: d},
			Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()})
		tcheck(t, err, "mailbox")
		ids = append(ids, m.ID)
	}
	bs, err := blob.NewFiles(t.TempDir())
	tcheck(t, err, "blobs")
	return store.New(db, bs, store.Options{}), ids[0], ids[1]
}

const msg1 = "From: Ann <ann@example.test>\r\nTo: john@example.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <1@x>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nHello\r\nthere\r\n"

func deliver(t *testing.T, s *store.Store, body string, rcpts ...store.Rcpt) *store.DeliveryResult {
	t.Helper()
	p, err := s.Blobs().Create(context.Background())
	tcheck(t, err, "create blob")
	io.WriteString(p, body)
	res, err := s.Deliver(context.Background(), &store.Delivery{Blob: p, Rcpts: rcpts})
	tcheck(t, err, "deliver")
	return res
}

func TestStore(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, ann := env(t, db)
		tcheck(t, s.EnsureFolders(ctx, john), "folders")
		tcheck(t, s.EnsureFolders(ctx, john), "folders again")
		fs, err := s.Folders(ctx, john)
		tcheck(t, err, "list folders")
		if len(fs) != 6 {
			t.Fatalf("folders %v", fs)
		}
		inbox, watchStop := mustFolder(t, s, john, "inbox"), func() {}
		ch, watchStop := s.Watch(inbox.ID)
		defer watchStop()

		// One blob, two recipients with their own prefixes.
		res := deliver(t, s, msg1,
			store.Rcpt{MailboxID: john, Prefix: "Delivered-To: john@example.test\r\n"},
			store.Rcpt{MailboxID: ann, Prefix: "Delivered-To: ann@example.test\r\n"})
		if res.Errs[0] != nil || res.Errs[1] != nil || res.UIDs[0] != 1 {
			t.Fatalf("result %+v", res)
		}
		select {
		case <-ch:
		case <-time.After(time.Second):
			t.Fatal("no change notification")
		}
		ms, err := s.Messages(ctx, inbox.ID, nil)
		tcheck(t, err, "messages")
		if len(ms) != 1 || ms[0].Size != int64(len(msg1))+int64(len("Delivered-To: john@example.test\r\n")) {
			t.Fatalf("messages %+v", ms)
		}
		r, err := s.Open(ctx, &ms[0])
		tcheck(t, err, "open")
		all, _ := io.ReadAll(r)
		r.Close()
		if string(all) != "Delivered-To: john@example.test\r\n"+msg1 {
			t.Fatalf("read %q", all)
		}
		b, err := s.Blob(ctx, ms[0].BlobKey)
		tcheck(t, err, "blob row")
		if b.Subject != "Grüße" || !strings.Contains(b.FromAddr, "ann@example.test") || b.SentAt == nil {
			t.Fatalf("blob meta %+v", b)
		}
		used, n, err := s.Usage(ctx, john)
		tcheck(t, err, "usage")
		if n != 1 || used != ms[0].Size {
			t.Fatalf("usage %d %d", used, n)
		}

		// Quota: a second message over john's quota is refused for john only.
		res = deliver(t, s, msg1, store.Rcpt{MailboxID: john, Quota: used + 10}, store.Rcpt{MailboxID: ann})
		if !errors.Is(res.Errs[0], store.ErrOverQuota) || res.Errs[1] != nil {
			t.Fatalf("quota result %+v", res)
		}
		_, _, err = s.Append(ctx, john, "Drafts", used+10, strings.NewReader(msg1), 1<<20, nil, time.Now())
		if !errors.Is(err, store.ErrOverQuota) {
			t.Fatalf("append over quota: %v", err)
		}
		_, _, err = s.Append(ctx, john, "Drafts", 0, strings.NewReader(msg1), 10, nil, time.Now())
		if !errors.Is(err, store.ErrTooBig) {
			t.Fatalf("append too big: %v", err)
		}
		drafts, uid, err := s.Append(ctx, john, "Drafts", 0, strings.NewReader(msg1), 1<<20, store.Flags{`\Draft`, "$Work"}, time.Now())
		tcheck(t, err, "append")
		dm, err := s.Message(ctx, john, drafts.ID, uid)
		tcheck(t, err, "read appended")
		if !dm.Draft || dm.Keywords != "$Work" {
			t.Fatalf("appended flags %+v", dm)
		}
		if _, err := s.Message(ctx, ann, drafts.ID, uid); !errors.Is(err, store.ErrNoMessage) {
			t.Fatalf("other mailbox reads john's draft: %v", err)
		}

		// Flags, copy, move, expunge, changes.
		st0, _ := s.FolderStatus(ctx, inbox)
		changed, err := s.StoreFlags(ctx, inbox.ID, nil, store.FlagsAdd, store.Flags{`\Seen`, `\Deleted`})
		tcheck(t, err, "store flags")
		if len(changed) != 1 || !changed[0].Seen || changed[0].ModSeq <= st0.HighestModSeq {
			t.Fatalf("changed %+v", changed)
		}
		if again, _ := s.StoreFlags(ctx, inbox.ID, nil, store.FlagsAdd, store.Flags{`\Seen`}); len(again) != 0 {
			t.Fatalf("no-op store reported changes")
		}
		archive := mustFolder(t, s, john, "Archive")
		cr, err := s.Copy(ctx, inbox, archive, []store.UIDRange{{1, 0}}, 0)
		tcheck(t, err, "copy")
		if len(cr.Dst) != 1 || cr.Dst[0] != 1 {
			t.Fatalf("copy %+v", cr)
		}
		gone, err := s.Expunge(ctx, inbox, nil)
		tcheck(t, err, "expunge")
		if len(gone) != 1 {
			t.Fatalf("expunged %v", gone)
		}
		_, expunged, _, err := s.Changes(ctx, inbox.ID, st0.HighestModSeq)
		tcheck(t, err, "changes")
		if len(expunged) != 1 || expunged[0] != 1 {
			t.Fatalf("changes expunged %v", expunged)
		}
		mr, err := s.Move(ctx, archive, inbox, nil)
		tcheck(t, err, "move")
		if len(mr.Dst) != 1 || mr.Dst[0] != 2 {
			t.Fatalf("move %+v (UIDs never reused)", mr)
		}
		st, _ := s.FolderStatus(ctx, inbox)
		if st.Messages != 1 || st.UIDNext != 3 || st.UIDValidity != inbox.UIDValidity {
			t.Fatalf("status %+v", st)
		}

		// Folders: create with parents, rename with children, delete, INBOX rename.
		_, err = s.CreateFolder(ctx, john, "Work/2026/Q4", "")
		tcheck(t, err, "create nested")
		if _, err := s.CreateFolder(ctx, john, "Work", ""); !errors.Is(err, store.ErrFolderExists) {
			t.Fatalf("create existing: %v", err)
		}
		for _, bad := range []string{"../../x", "a\x00b", "", strings.Repeat("x", 10000), "a//b", "/a", "a/"} {
			if _, err := s.CreateFolder(ctx, john, bad, ""); !errors.Is(err, store.ErrBadFolderName) {
				t.Errorf("create %q: %v", bad, err)
			}
		}
		tcheck(t, s.RenameFolder(ctx, john, "Work", "Jobs"), "rename")
		mustFolder(t, s, john, "Jobs/2026/Q4")
		tcheck(t, s.DeleteFolder(ctx, john, "Jobs/2026"), "delete")
		mustFolder(t, s, john, "Jobs/2026/Q4")
		if err := s.DeleteFolder(ctx, john, "INBOX"); !errors.Is(err, store.ErrInbox) {
			t.Fatalf("delete INBOX: %v", err)
		}
		tcheck(t, s.RenameFolder(ctx, john, "INBOX", "Old"), "rename INBOX")
		if st, _ := s.FolderStatus(ctx, mustFolder(t, s, john, "Old")); st.Messages != 1 {
			t.Fatalf("renamed INBOX has %d messages", st.Messages)
		}
		if st, _ := s.FolderStatus(ctx, mustFolder(t, s, john, "INBOX")); st.Messages != 0 {
			t.Fatalf("INBOX after rename has %d messages", st.Messages)
		}

		// Garbage collection keeps referenced blobs and removes the rest.
		p, _ := s.Blobs().Create(ctx)
		io.WriteString(p, "orphan")
		p.Commit()
		n2, err := s.CollectGarbage(ctx, -time.Hour)
		tcheck(t, err, "gc")
		if n2 < 1 {
			t.Fatalf("gc removed %d", n2)
		}
		if _, err := s.Blobs().Open(ctx, ms[0].BlobKey); err != nil {
			t.Fatalf("gc removed a referenced blob: %v", err)
		}
	})
}

func mustFolder(t *testing.T, s *store.Store, mailbox int64, name string) *store.Folder {
	t.Helper()
	f, err := s.Folder(context.Background(), mailbox, name)
	tcheck(t, err, "folder "+name)
	return f
}

func TestIndexLimits(t *testing.T) {
	// 200 nested levels: past the limit, one opaque part.
	var b bytes.Buffer
	b.WriteString("Subject: deep\r\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhi\r\n")
	m, err := store.Index(bytes.NewReader(b.Bytes()), int64(b.Len()))
	tcheck(t, err, "index deep")
	if m.Structure.Type != "application" || len(m.Structure.Children) != 0 {
		t.Fatalf("deep message structure %+v", m.Structure.Type)
	}
	// A normal multipart keeps its parts.
	normal := "Subject: x\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nhello\r\n--z\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\nPDF\r\n--z--\r\n"
	m, err = store.Index(strings.NewReader(normal), int64(len(normal)))
	tcheck(t, err, "index normal")
	if len(m.Structure.Children) != 2 || !m.HasAttachments || m.Structure.Children[0].Size != 5 {
		t.Fatalf("structure %+v", m.Structure)
	}
	if bs := m.Structure.IMAP(); bs.MediaType() != "multipart/mixed" {
		t.Fatalf("imap %v", bs.MediaType())
	}
}

func BenchmarkIndexDeep(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&buf, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	data := buf.Bytes()
	for b.Loop() {
		store.Index(bytes.NewReader(data), int64(len(data)))
	}
}

func TestUIDRanges(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		for i := 0; i < 6; i++ {
			deliver(t, s, msg1, store.Rcpt{MailboxID: john})
		}
		inbox := mustFolder(t, s, john, "INBOX")
		ms, err := s.Messages(ctx, inbox.ID, []store.UIDRange{{1, 1}, {3, 4}, {6, 0}})
		tcheck(t, err, "messages")
		var got []uint32
		for _, m := range ms {
			got = append(got, m.UID)
		}
		if fmt.Sprint(got) != "[1 3 4 6]" {
			t.Fatalf("ranges 1,3:4,6:* gave %v", got)
		}
		changed, err := s.StoreFlags(ctx, inbox.ID, []store.UIDRange{{2, 2}, {5, 5}}, store.FlagsAdd, store.Flags{`\Flagged`})
		tcheck(t, err, "store")
		if len(changed) != 2 || changed[0].UID != 2 || changed[1].UID != 5 {
			t.Fatalf("store over two ranges changed %+v", changed)
		}
	})
}

// fmtAddrs formats addresses as fmt.Sprint did before imap.Address had a
// Route: "{Name Mailbox Host}", with " Route" before the brace when set.
func fmtAddrs(l []imap.Address) string {
	var parts []string
	for _, a := range l {
		p := "{" + a.Name + " " + a.Mailbox + " " + a.Host
		if a.Route != "" {
			p += " " + a.Route
		}
		parts = append(parts, p+"}")
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestEnvelopeGroups(t *testing.T) {
	for _, tc := range []struct{ to, want string }{
		{`undisclosed-recipients:;`, `[{ undisclosed-recipients } {  }]`},
		{`Friends: a@x.test, "B, Jr." <b@y.test>; c@z.test`, `[{ Friends } { a x.test} {B, Jr. b y.test} {  } { c z.test}]`},
		{`"Not: a group" <n@x.test>`, `[{Not: a group n x.test}]`},
		{`u@[IPv6:::1], v@w.test`, `[{ v w.test}]`},
		{`=?utf-8?q?Gr=C3=BCppe?=: a@x.test;`, `[{ Grüppe } { a x.test} {  }]`},
	} {
		msg := "To: " + tc.to + "\r\nSubject: x\r\n\r\nbody\r\n"
		m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
		tcheck(t, err, "index")
		if got := fmtAddrs(m.Envelope.To); got != tc.want {
			t.Errorf("To: %s\n got %s\nwant %s", tc.to, got, tc.want)
		}
	}
}

// TestExpungeManyUIDs: UID EXPUNGE and POP3 QUIT name UIDs one by one;
// 70,000 of them pass both engines' parameter limits.
func TestExpungeManyUIDs(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		for i := 0; i < 3; i++ {
			deliver(t, s, msg1, store.Rcpt{MailboxID: john, Flags: store.Flags{`\Deleted`}})
		}
		inbox := mustFolder(t, s, john, "INBOX")
		uids := make([]uint32, 70000)
		for i := range uids {
			uids[i] = uint32(i + 1)
		}
		gone, err := s.Expunge(ctx, inbox, uids)
		tcheck(t, err, "expunge")
		if len(gone) != 3 {
			t.Fatalf("expunged %v", gone)
		}
		if _, n, _ := s.Usage(ctx, john); n != 0 {
			t.Fatalf("usage still counts %d messages", n)
		}
	})
}
