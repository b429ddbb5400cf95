package imapserver_test

// postdesk: tests of patches 23 to 26, WITHIN (RFC 5032), OBJECTID (RFC
// 8474), PREVIEW (RFC 8970) and SAVEDATE (RFC 8514).

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

type objSession struct {
	imapserver.Session
	search *imap.SearchCriteria
	fetch  *imap.FetchOptions
}

var _ imapserver.SessionObjectID = (*objSession)(nil)

func (s *objSession) MailboxID(mailbox string) (string, error) { return "F-" + mailbox, nil }

func (s *objSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	data, err := s.Session.Select(mailbox, options)
	if data != nil {
		data.MailboxID = "F1"
	}
	return data, err
}

func (s *objSession) Status(mailbox string, options *imap.StatusOptions) (*imap.StatusData, error) {
	return &imap.StatusData{Mailbox: mailbox, MailboxID: "F1"}, nil
}

func (s *objSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	s.search = criteria
	return &imap.SearchData{All: imap.SeqSet{}}, nil
}

func (s *objSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	s.fetch = options
	m := w.CreateMessage(1)
	if options.EmailID {
		m.WriteEmailID("M1")
		m.WriteThreadID("")
	}
	for _, bs := range options.BinarySection {
		wc := m.WriteBinarySection(bs, 3)
		io.WriteString(wc, "abc")
		wc.Close()
	}
	if options.SaveDate {
		saved := time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
		m.WriteSaveDate(&saved)
	}
	if options.Preview {
		text := "Hi there"
		if options.PreviewLazy {
			m.WritePreview(nil)
		} else {
			m.WritePreview(&text)
		}
	}
	return m.Close()
}

func TestWithinObjectID(t *testing.T) {
	var sess *objSession
	addr := startServer(t, imapserver.Options{Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapWithin: {}, imap.CapObjectID: {}, imap.CapPreview: {}, imap.CapSaveDate: {}}},
		func(s imapserver.Session) imapserver.Session {
			sess = &objSession{Session: s}
			return sess
		})
	c := dial(t, addr)
	c.login()
	caps := capsOf(t, c)
	if !strings.Contains(caps, " WITHIN ") || !strings.Contains(caps, " OBJECTID ") {
		t.Fatalf("capabilities: %q", caps)
	}
	c.expect("c", "CREATE Box", "OK [MAILBOXID (F-Box)]")
	if untagged := c.expect("t", "STATUS Box (MAILBOXID)", "OK"); !containsLine(untagged, `* STATUS "Box" (MAILBOXID (F1))`) {
		t.Fatalf("STATUS MAILBOXID: %q", untagged)
	}
	if untagged := c.expect("s", "SELECT INBOX", "OK"); !containsLine(untagged, "* OK [MAILBOXID (F1)] Ok") {
		t.Fatalf("SELECT: %q", untagged)
	}
	c.expect("a", "SEARCH OLDER 60 YOUNGER 3600 OLDER 120 EMAILID M1 THREADID T1", "OK")
	if k := sess.search; k.Older != 120 || k.Younger != 3600 || len(k.EmailID) != 1 || k.EmailID[0] != "M1" || len(k.ThreadID) != 1 {
		t.Fatalf("SEARCH criteria: %+v", k)
	}
	if untagged := c.expect("f", "FETCH 1 (EMAILID THREADID)", "OK"); !sess.fetch.EmailID || !sess.fetch.ThreadID ||
		!containsLine(untagged, "* 1 FETCH (EMAILID (M1) THREADID NIL)") {
		t.Fatalf("FETCH: %+v %q", sess.fetch, untagged)
	}
	// PREVIEW (RFC 8970), and its LAZY modifier in and outside a list.
	if untagged := c.expect("p", "FETCH 1 (PREVIEW)", "OK"); !containsLine(untagged, `* 1 FETCH (PREVIEW "Hi there")`) {
		t.Fatalf("FETCH PREVIEW: %q", untagged)
	}
	if untagged := c.expect("p", "FETCH 1 (PREVIEW (LAZY) UID)", "OK"); !sess.fetch.PreviewLazy || !sess.fetch.UID ||
		!containsLine(untagged, `* 1 FETCH (PREVIEW NIL)`) {
		t.Fatalf("FETCH PREVIEW (LAZY): %+v %q", sess.fetch, untagged)
	}
	c.expect("p", "FETCH 1 PREVIEW (LAZY)", "OK")
	if !sess.fetch.PreviewLazy {
		t.Error("FETCH 1 PREVIEW (LAZY): LAZY not read")
	}
	c.expect("p", "FETCH 1 (PREVIEW (SOON))", "BAD")
	c.expect("p", "FETCH 1 (FLAGS) (LAZY)", "BAD")
	// SAVEDATE (RFC 8514).
	if untagged := c.expect("d", "FETCH 1 (SAVEDATE)", "OK"); !containsLine(untagged, `* 1 FETCH (SAVEDATE " 3-Feb-2021 04:05:06 +0000")`) {
		t.Fatalf("FETCH SAVEDATE: %q", untagged)
	}
	c.expect("d", "SEARCH SAVEDON 1-Feb-2020 SAVEDSINCE 1-Jan-2020 SAVEDATESUPPORTED", "OK")
	if k := sess.search; !k.SaveDateSupported || !k.SavedSince.Equal(time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC)) ||
		!k.SavedBefore.Equal(time.Date(2020, 2, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("SEARCH SAVED*: %+v", k)
	}
	c.expect("b", "SEARCH SAVEDBEFORE x", "BAD")
	// BINARY's partial fetch gives its origin (patch 27).
	c.send("x FETCH 1 (BINARY.PEEK[1]<2.3>)\r\n")
	if l := c.line(); l != "* 1 FETCH (BINARY[1]<2> ~{3}" {
		t.Fatalf("partial BINARY: %q", l)
	}
	c.until("x")
	c.expect("b", "SEARCH OLDER 0", "BAD")
	c.expect("b", "SEARCH EMAILID", "BAD")
}
