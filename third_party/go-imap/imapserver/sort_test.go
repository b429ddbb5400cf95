package imapserver_test

// postdesk: tests of patch 21, SORT and THREAD (RFC 5256).

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// sortSession records SORT and THREAD's arguments and answers fixed
// results.
type sortSession struct {
	imapserver.Session
	kind     imapserver.NumKind
	criteria []imapserver.SortCriterion
	search   *imap.SearchCriteria
	alg      imap.ThreadAlgorithm
}

var (
	_ imapserver.SessionSort   = (*sortSession)(nil)
	_ imapserver.SessionThread = (*sortSession)(nil)
)

func (s *sortSession) SortDisplay() bool { return false }

func (s *sortSession) Sort(kind imapserver.NumKind, criteria []imapserver.SortCriterion, search *imap.SearchCriteria) ([]uint32, error) {
	s.kind, s.criteria, s.search = kind, criteria, search
	return []uint32{3, 1, 2}, nil
}

func (s *sortSession) ThreadAlgorithms() []imap.ThreadAlgorithm {
	return []imap.ThreadAlgorithm{imap.ThreadReferences}
}

func (s *sortSession) Thread(kind imapserver.NumKind, alg imap.ThreadAlgorithm, search *imap.SearchCriteria) ([]imapserver.ThreadData, error) {
	s.kind, s.alg, s.search = kind, alg, search
	return []imapserver.ThreadData{
		{Chain: []uint32{1, 2}, SubThreads: []imapserver.ThreadData{{Chain: []uint32{3}}, {Chain: []uint32{4, 5}}}},
		{SubThreads: []imapserver.ThreadData{{Chain: []uint32{6}}, {Chain: []uint32{7}}}},
		{Chain: []uint32{8}},
	}, nil
}

// TestSortThread: SORT and THREAD's arguments are read, their responses
// written, their capabilities announced.
func TestSortThread(t *testing.T) {
	var sess *sortSession
	c := dial(t, startServer(t, imapserver.Options{}, func(s imapserver.Session) imapserver.Session {
		sess = &sortSession{Session: s}
		return sess
	}))
	c.login()
	caps := capsOf(t, c)
	if !strings.Contains(caps, " SORT ") || !strings.Contains(caps, " THREAD=REFERENCES ") || !strings.Contains(caps, " ESORT ") || strings.Contains(caps, "SORT=DISPLAY") {
		t.Fatalf("capabilities: %q", caps)
	}
	c.expect("s", "SELECT INBOX", "OK")
	untagged := c.expect("a", "UID SORT (REVERSE date subject) UTF-8 SEEN UNDELETED", "OK")
	want := []imapserver.SortCriterion{{Key: imapserver.SortKeyDate, Reverse: true}, {Key: imapserver.SortKeySubject}}
	if sess.kind != imapserver.NumKindUID || len(sess.criteria) != 2 || sess.criteria[0] != want[0] || sess.criteria[1] != want[1] ||
		len(sess.search.Flag) != 1 || len(sess.search.NotFlag) != 1 || !containsLine(untagged, "* SORT 3 1 2") {
		t.Fatalf("UID SORT: %v %+v %+v, %q", sess.kind, sess.criteria, sess.search, untagged)
	}
	untagged = c.expect("b", "THREAD references US-ASCII ALL", "OK")
	if sess.kind != imapserver.NumKindSeq || sess.alg != imap.ThreadReferences || !containsLine(untagged, "* THREAD (1 2 (3)(4 5))((6)(7))(8)") {
		t.Fatalf("THREAD: %v %v, %q", sess.kind, sess.alg, untagged)
	}
	// ESORT (RFC 5267): ESEARCH, MIN and MAX in sort order, ALL in sort
	// order with ranges of ascending runs only.
	untagged = c.expect("e", "UID SORT RETURN (MIN MAX COUNT ALL) (ARRIVAL) UTF-8 ALL", "OK")
	if !containsLine(untagged, `* ESEARCH (TAG "e") UID MIN 3 MAX 2 ALL 3,1:2 COUNT 3`) {
		t.Fatalf("ESORT: %q", untagged)
	}
	if untagged := c.expect("e2", "SORT RETURN () (ARRIVAL) UTF-8 ALL", "OK"); !containsLine(untagged, `* ESEARCH (TAG "e2") ALL 3,1:2`) {
		t.Fatalf("ESORT RETURN (): %q", untagged)
	}
	c.expect("e3", "SORT RETURN (SAVE) (ARRIVAL) UTF-8 ALL", "BAD")
	c.expect("c", "SORT (SUBJECT) KOI8-R ALL", "NO [BADCHARSET]")
	for _, bad := range []string{"SORT (DISPLAYFROM) UTF-8 ALL", "SORT () UTF-8 ALL", "SORT (REVERSE) UTF-8 ALL", "SORT (SUBJECT) UTF-8",
		"THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD REFERENCES UTF-8 BOGUS"} {
		c.expect("d", bad, "BAD")
	}
}
