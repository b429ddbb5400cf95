package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// imapDateTime is IMAP's date-time (RFC 9051 9).
const imapDateTime = "02-Jan-2006 15:04:05 -0700"

// TestInternalZone: the internal date keeps the zone it was given in,
// through APPEND, delivery (the store clock's zone), COPY and MOVE, and
// on every read path.
func TestInternalZone(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		tcheck(t, s.EnsureFolders(ctx, john), "folders")

		// APPEND: the date-time's own zone, east, west, with minutes,
		// and UTC.
		appended := []string{"25-Mar-2007 00:00:00 +0200", "28-Oct-2007 23:00:00 -0330", "01-Jan-2024 05:45:00 +0545",
			"22-Feb-2008 17:06:23 +0000"}
		for _, d := range appended {
			date, err := time.Parse(imapDateTime, d)
			tcheck(t, err, "parse date")
			_, _, err = s.Append(ctx, john, "INBOX", 0, strings.NewReader(msg1), 1<<20, nil, date)
			tcheck(t, err, "append "+d)
		}

		// Delivery: no date given, so the store's clock, in its zone.
		eest := time.FixedZone("EEST", 3*3600)
		clocked := store.New(db, s.Blobs(), store.Options{Now: func() time.Time { return time.Date(2025, 7, 1, 0, 30, 0, 0, eest) }})
		deliver(t, clocked, msg1, store.Rcpt{MailboxID: john})
		utc := store.New(db, s.Blobs(), store.Options{Now: func() time.Time { return time.Date(2025, 7, 1, 0, 30, 0, 0, time.UTC) }})
		deliver(t, utc, msg1, store.Rcpt{MailboxID: john})
		want := append(appended, "01-Jul-2025 00:30:00 +0300", "01-Jul-2025 00:30:00 +0000")

		inbox := mustFolder(t, s, john, "INBOX")
		check := func(where string, ms []store.Message, want []string) {
			t.Helper()
			if len(ms) != len(want) {
				t.Fatalf("%s: %d messages, want %d", where, len(ms), len(want))
			}
			for i, m := range ms {
				got := m.InternalTime()
				if got.Format(imapDateTime) != want[i] {
					t.Errorf("%s: message %d internal date %s, want %s", where, m.UID, got.Format(imapDateTime), want[i])
				}
				// The stored instant is unchanged: lists sort by it.
				instant, _ := time.Parse(imapDateTime, want[i])
				if !m.InternalDate.Equal(instant) || !got.Equal(instant) {
					t.Errorf("%s: message %d at %s, want the instant %s", where, m.UID, m.InternalDate, instant)
				}
			}
		}
		ms, err := s.Messages(ctx, inbox.ID, nil)
		tcheck(t, err, "messages")
		check("Messages", ms, want)
		if _, off := ms[3].InternalTime().Zone(); off != 0 || ms[3].InternalTime().Location() != time.UTC {
			t.Errorf("a UTC date reads back in %v", ms[3].InternalTime().Location())
		}
		one, err := s.Message(ctx, john, inbox.ID, ms[0].UID)
		tcheck(t, err, "message")
		check("Message", []store.Message{*one}, want[:1])

		uids := make([]uint32, len(ms))
		for i, m := range ms {
			uids[i] = m.UID
		}
		meta, err := s.MessagesMeta(ctx, john, inbox.ID, uids, store.MetaColumns{Header: true})
		tcheck(t, err, "messages meta")
		var rows []store.Message
		for _, m := range meta {
			rows = append(rows, m.Message)
		}
		check("MessagesMeta", rows, want)

		// COPY and MOVE keep the zone.
		archive, trash := mustFolder(t, s, john, "Archive"), mustFolder(t, s, john, "Trash")
		_, err = s.Copy(ctx, inbox, archive, nil, 0)
		tcheck(t, err, "copy")
		copied, err := s.Messages(ctx, archive.ID, nil)
		tcheck(t, err, "messages of the copy")
		check("copy", copied, want)
		_, err = s.Move(ctx, archive, trash, nil)
		tcheck(t, err, "move")
		moved, err := s.Messages(ctx, trash.ID, nil)
		tcheck(t, err, "messages moved")
		check("move", moved, want)
	})
}

// TestAddressList: an address field read as ENVELOPE reads it.
func TestAddressList(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"", "[]"},
		{"user-from@domain.org", "[{ user-from domain.org}]"},
		{"RealFrom <user-from@domain.org>", "[{RealFrom user-from domain.org}]"},
		{"<user-from (comment)@ (comment) domain.org>", "[{ user-from domain.org}]"},
		{"user-from@domain.org (RealFrom)", "[{RealFrom user-from domain.org}]"},
		{"user-from1@domain.org, user-from2@domain.org", "[{ user-from1 domain.org} { user-from2 domain.org}]"},
		{"groupname: groupuser1@domain.org, groupuser2@domain.org;, groupname2: groupuser3@domain.org;",
			"[{ groupname } { groupuser1 domain.org} { groupuser2 domain.org} {  } { groupname2 } { groupuser3 domain.org} {  }]"},
		{"=?utf-8?q?Gr=C3=BC=C3=9Fe?= <a@x.test>", "[{Grüße a x.test}]"},
		{"<@route:user@domain>", "[{ user domain @route}]"},
		{"Two <@a.example, @b.example:u2@d2>, u3@d3", "[{Two u2 d2 @a.example,@b.example} { u3 d3}]"},
	} {
		if got := fmtAddrs(store.AddressList(tc.value)); got != tc.want {
			t.Errorf("%q\n got %s\nwant %s", tc.value, got, tc.want)
		}
	}
}
