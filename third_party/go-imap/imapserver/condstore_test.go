package imapserver_test

// postdesk: tests of patch 20, CONDSTORE and QRESYNC (RFC 7162).

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// condSession records the CONDSTORE options go-imap passes and answers
// with fixed mod-sequences, over imapmemserver's session.
type condSession struct {
	imapserver.Session
	select_ *imap.SelectOptions
	fetch   *imap.FetchOptions
	store   *imap.StoreOptions
	search  *imap.SearchCriteria
	resync  *imap.SelectQResync
}

var _ imapserver.SessionQResync = (*condSession)(nil)

func (s *condSession) HighestModSeq() (uint64, error) { return 42, nil }

func (s *condSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	s.select_ = options
	data, err := s.Session.Select(mailbox, options)
	if data != nil {
		data.HighestModSeq = 42
	}
	return data, err
}

func (s *condSession) ResyncSelected(w *imapserver.FetchWriter, params *imap.SelectQResync) error {
	s.resync = params
	m := w.CreateMessage(1)
	m.WriteUID(7)
	m.WriteFlags([]imap.Flag{imap.FlagSeen})
	m.WriteModSeq(41)
	if err := m.Close(); err != nil {
		return err
	}
	return w.WriteVanishedEarlier(imap.UIDSetNum(3, 5))
}

func (s *condSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	s.fetch = options
	if options.Vanished {
		if err := w.WriteVanishedEarlier(imap.UIDSetNum(2)); err != nil {
			return err
		}
	}
	m := w.CreateMessage(1)
	m.WriteModSeq(40)
	return m.Close()
}

func (s *condSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	s.store = options
	if options.HasUnchangedSince {
		w.WriteModified(imap.SeqSetNum(1))
	}
	return nil
}

func (s *condSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	s.search = criteria
	return &imap.SearchData{All: imap.SeqSetNum(1), Min: 1, Max: 1, Count: 1, ModSeq: 40}, nil
}

func (s *condSession) Status(mailbox string, options *imap.StatusOptions) (*imap.StatusData, error) {
	return &imap.StatusData{Mailbox: mailbox, HighestModSeq: 42}, nil
}

func startCondServer(t *testing.T) (*rawClient, *condSession) {
	t.Helper()
	var sess *condSession
	c := dial(t, startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		sess = &condSession{Session: s}
		return sess
	}))
	c.login()
	return c, sess
}

// TestCondStore: CONDSTORE's parameters, modifiers, items and response
// codes, read and written, and the CONDSTORE enabling commands.
func TestCondStore(t *testing.T) {
	c, sess := startCondServer(t)
	caps := capsOf(t, c)
	if !strings.Contains(caps, " CONDSTORE ") || !strings.Contains(caps, " QRESYNC ") {
		t.Fatalf("capabilities: %q", caps)
	}
	untagged := c.expect("s", "SELECT INBOX (CONDSTORE)", "OK [READ-WRITE]")
	if !sess.select_.CondStore || !containsLine(untagged, "* OK [HIGHESTMODSEQ 42] Highest") {
		t.Fatalf("SELECT (CONDSTORE): %+v, %q", sess.select_, untagged)
	}
	untagged = c.expect("f", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12)", "OK")
	if sess.fetch.ChangedSince != 12 || !sess.fetch.ModSeq || sess.fetch.Vanished || !containsLine(untagged, "* 1 FETCH (MODSEQ (40))") {
		t.Fatalf("FETCH CHANGEDSINCE: %+v, %q", sess.fetch, untagged)
	}
	c.expect("g", "FETCH 1 (FLAGS MODSEQ)", "OK")
	if !sess.fetch.ModSeq {
		t.Error("FETCH MODSEQ not passed on")
	}
	c.expect("v", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12 VANISHED)", "BAD") // QRESYNC not enabled
	c.expect("st", `STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\Seen)`, "OK [MODIFIED 1]")
	if !sess.store.HasUnchangedSince || sess.store.UnchangedSince != 0 {
		t.Errorf("STORE UNCHANGEDSINCE 0: %+v", sess.store)
	}
	c.expect("st2", `STORE 1 +FLAGS (\Seen)`, "OK STORE")
	if sess.store.HasUnchangedSince {
		t.Errorf("STORE without UNCHANGEDSINCE: %+v", sess.store)
	}
	untagged = c.expect("se", `SEARCH MODSEQ "/flags/\\seen" all 40`, "OK")
	if m := sess.search.ModSeq; m == nil || m.ModSeq != 40 || m.MetadataName != `/flags/\seen` || m.MetadataType != imap.SearchCriteriaMetadataAll ||
		!containsLine(untagged, "* SEARCH 1 (MODSEQ 40)") {
		t.Fatalf("SEARCH MODSEQ: %+v, %q", sess.search.ModSeq, untagged)
	}
	untagged = c.expect("es", "SEARCH RETURN (MIN) MODSEQ 40", "OK")
	if !containsLine(untagged, `* ESEARCH (TAG "es") MIN 1 MODSEQ 40`) {
		t.Fatalf("ESEARCH MODSEQ: %q", untagged)
	}
	untagged = c.expect("t", "STATUS INBOX (HIGHESTMODSEQ)", "OK")
	if !containsLine(untagged, "* STATUS INBOX (HIGHESTMODSEQ 42)") {
		t.Fatalf("STATUS HIGHESTMODSEQ: %q", untagged)
	}
	for _, bad := range []string{"FETCH 1 (FLAGS) (CHANGEDSINCE)", "FETCH 1 (FLAGS) (BOGUS 1)", `STORE 1 (UNCHANGEDSINCE) +FLAGS (\Seen)`,
		"SEARCH MODSEQ x", `SEARCH MODSEQ "/flags/\\seen" bogus 1`} {
		c.expect("b", bad, "BAD")
	}

	// A first enabling command in the selected state reports
	// HIGHESTMODSEQ (RFC 7162 3.1), a second one not.
	c2, _ := startCondServer(t)
	c2.expect("s", "SELECT INBOX", "OK")
	if untagged := c2.expect("f", "FETCH 1 MODSEQ", "OK"); !containsLine(untagged, "* OK [HIGHESTMODSEQ 42] Highest") {
		t.Fatalf("first FETCH MODSEQ: %q", untagged)
	}
	if untagged := c2.expect("f", "FETCH 1 MODSEQ", "OK"); containsLine(untagged, "* OK [HIGHESTMODSEQ 42] Highest") {
		t.Fatalf("second FETCH MODSEQ: %q", untagged)
	}
}

// TestQResync: ENABLE QRESYNC, SELECT's QRESYNC parameter, UID FETCH's
// VANISHED modifier and the responses a Session writes for them.
func TestQResync(t *testing.T) {
	c, sess := startCondServer(t)
	c.expect("s", "SELECT INBOX (QRESYNC (1 1))", "BAD") // not enabled
	if untagged := c.expect("e", "ENABLE QRESYNC", "OK"); !containsLine(untagged, "* ENABLED QRESYNC") {
		t.Fatalf("ENABLE: %q", untagged)
	}
	untagged := c.expect("s", "SELECT INBOX (QRESYNC (1 17 1:9 (1:2 3,5)))", "OK [READ-WRITE]")
	q := sess.resync
	if q == nil || q.UIDValidity != 1 || q.ModSeq != 17 || q.KnownUIDs.String() != "1:9" || q.SeqMatch == nil ||
		q.SeqMatch.SeqNums.String() != "1:2" || q.SeqMatch.UIDs.String() != "3,5" {
		t.Fatalf("QRESYNC parameter: %+v", q)
	}
	for _, want := range []string{"* OK [HIGHESTMODSEQ 42] Highest", "* 1 FETCH (UID 7 FLAGS (\\Seen) MODSEQ (41))", "* VANISHED (EARLIER) 3,5"} {
		if !containsLine(untagged, want) {
			t.Errorf("SELECT (QRESYNC): no %q in %q", want, untagged)
		}
	}
	// Another UIDVALIDITY: nothing to resync.
	sess.resync = nil
	c.expect("s", "SELECT INBOX (QRESYNC (99 17))", "OK")
	if sess.resync != nil {
		t.Errorf("resync for another UIDVALIDITY: %+v", sess.resync)
	}
	untagged = c.expect("f", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12 VANISHED)", "OK")
	if !sess.fetch.Vanished || !containsLine(untagged, "* VANISHED (EARLIER) 2") {
		t.Fatalf("UID FETCH VANISHED: %+v, %q", sess.fetch, untagged)
	}
	for _, bad := range []string{"FETCH 1:* (FLAGS) (CHANGEDSINCE 12 VANISHED)", "UID FETCH 1:* (FLAGS) (VANISHED)",
		"SELECT INBOX (QRESYNC (0 1))", "SELECT INBOX (QRESYNC (1))", "SELECT INBOX (BOGUS)"} {
		c.expect("b", bad, "BAD")
	}
}
