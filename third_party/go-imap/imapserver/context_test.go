package imapserver_test

// postdesk: tests of patch 28, CONTEXT=SEARCH (RFC 5267).

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// contextSession answers SEARCH with messages 1, 2, 4 and 5, records
// the options and the tags CANCELUPDATE names, and writes an ADDTO at
// the next Poll once asked to.
type contextSession struct {
	imapserver.Session
	options   imap.SearchOptions
	cancelled []string
	addTo     string // the tag to write an ADDTO of message 3 for
}

var _ imapserver.SessionSearchContext = (*contextSession)(nil)

func (s *contextSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	s.options = *options
	if kind == imapserver.NumKindUID {
		return &imap.SearchData{All: imap.UIDSet{{Start: 1, Stop: 2}, {Start: 4, Stop: 5}}}, nil
	}
	return &imap.SearchData{All: imap.SeqSet{{Start: 1, Stop: 2}, {Start: 4, Stop: 5}}}, nil
}

func (s *contextSession) CancelSearchUpdate(tags []string) error {
	s.cancelled = tags
	return nil
}

func (s *contextSession) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.addTo != "" {
		tag := s.addTo
		s.addTo = ""
		return w.WriteSearchUpdate(tag, true, imap.SeqSetNum(3))
	}
	return s.Session.Poll(w, allowExpunge)
}

// TestSearchContext: CONTEXT=SEARCH is announced for a Session that
// keeps results up to date; RETURN (UPDATE) hands the tag over, PARTIAL
// is read (either way round), answered from the result and refused out
// of range; CANCELUPDATE reads its tags; the updates are written as
// RFC 5267 4.3 spells them.
func TestSearchContext(t *testing.T) {
	var sess *contextSession
	c := dial(t, startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		sess = &contextSession{Session: s}
		return sess
	}))
	c.login()
	if caps := capsOf(t, c); !strings.Contains(caps, " CONTEXT=SEARCH") {
		t.Fatalf("capabilities: %q", caps)
	}
	c.expect("s", "SELECT INBOX", "OK")
	untagged := c.expect("a", "SEARCH RETURN (UPDATE PARTIAL 4:2) SEEN", "OK")
	if !sess.options.ReturnUpdate || sess.options.Tag != "a" || sess.options.ReturnPartial == nil ||
		*sess.options.ReturnPartial != (imap.SearchPartial{First: 2, Last: 4}) ||
		!containsLine(untagged, `* ESEARCH (TAG "a") PARTIAL (2:4 2,4:5)`) {
		t.Fatalf("SEARCH RETURN (UPDATE PARTIAL 4:2): %+v, %q", sess.options, untagged)
	}
	if untagged := c.expect("b", "UID SEARCH RETURN (PARTIAL 5:9) ALL", "OK"); !containsLine(untagged, `* ESEARCH (TAG "b") UID PARTIAL (5:9 NIL)`) {
		t.Fatalf("PARTIAL past the end: %q", untagged)
	}
	if untagged := c.expect("c", "SEARCH RETURN (UPDATE) ALL", "OK"); !containsLine(untagged, `* ESEARCH (TAG "c") ALL 1:2,4:5`) {
		t.Fatalf("UPDATE alone gives ALL: %q", untagged)
	}
	for _, bad := range []string{"SEARCH RETURN (PARTIAL 1) ALL", "SEARCH RETURN (PARTIAL 1:*) ALL", "SEARCH RETURN (PARTIAL 0:3) ALL",
		"SORT RETURN (UPDATE) (ARRIVAL) UTF-8 ALL", "CANCELUPDATE", "CANCELUPDATE a"} {
		c.expect("d", bad, "BAD")
	}
	c.expect("e", `CANCELUPDATE "a" "c"`, "OK")
	if len(sess.cancelled) != 2 || sess.cancelled[0] != "a" || sess.cancelled[1] != "c" {
		t.Fatalf("CANCELUPDATE: %q", sess.cancelled)
	}
	sess.addTo = "c"
	if untagged := c.expect("f", "NOOP", "OK"); !containsLine(untagged, `* ESEARCH (TAG "c") ADDTO (0 3)`) {
		t.Fatalf("ADDTO: %q", untagged)
	}
}
