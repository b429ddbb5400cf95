package imapd_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// These tests replay scripts of Dovecot's imaptest (src/tests: select,
// copy, move, search-flags, subscribe, listext) with the answers those
// scripts require; go-imap's in-memory example server fails each of these
// groups.

func imaptestEnv(t *testing.T) (*env, *raw, *raw) {
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	a, b := e.raw(true), e.raw(true)
	a.login("john@example.test")
	b.login("john@example.test")
	return e, a, b
}

func appendMsg(r *raw, box string) {
	r.t.Helper()
	m := "From: a@b.test\r\nSubject: x\r\n\r\nbody\r\n"
	r.send("ap APPEND " + box + " {" + strconv.Itoa(len(m)) + "}\r\n")
	if l := r.line(); !strings.HasPrefix(l, "+") {
		r.t.Fatalf("append: %q", l)
	}
	r.send(m + "\r\n")
	if _, done := r.until("ap"); !strings.HasPrefix(done, "ap OK") {
		r.t.Fatalf("append: %q", done)
	}
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(got, func(l string) bool { return strings.EqualFold(l, w) }) {
			t.Fatalf("missing %q in %q", w, got)
		}
	}
}

func TestImaptestSelect(t *testing.T) {
	_, a, _ := imaptestEnv(t)
	a.expect("c", "CREATE box", "OK")
	appendMsg(a, "box")
	appendMsg(a, "box")
	lines := a.expect("s", "SELECT box", "OK [READ-WRITE]")
	wantLines(t, lines, "* 2 EXISTS", "* 2 RECENT", "* OK [UNSEEN 1] First unseen message")
}

func TestImaptestCopy(t *testing.T) {
	_, a, b := imaptestEnv(t)
	a.expect("c", "CREATE box", "OK")
	a.expect("s", "SELECT box", "OK")
	for i := 0; i < 5; i++ {
		appendMsg(a, "box")
	}
	b.expect("c", "CREATE box2", "OK")
	b.expect("s", "SELECT box2", "OK")
	a.expect("1", `STORE 1 FLAGS (\Seen)`, "OK")
	a.expect("2", `STORE 2 FLAGS (\Draft \Flagged)`, "OK")
	a.expect("3", `STORE 5 FLAGS (\Flagged $keyword1 $keyword2)`, "OK")
	a.expect("4", "COPY 1:2,4 box2", "OK [COPYUID")
	wantLines(t, b.expect("n", "NOOP", "OK"), "* 3 EXISTS", "* 3 RECENT")
	wantLines(t, b.expect("f", "FETCH 1:3 FLAGS", "OK"),
		`* 1 FETCH (FLAGS (\Seen \Recent))`, `* 2 FETCH (FLAGS (\Flagged \Draft \Recent))`, `* 3 FETCH (FLAGS (\Recent))`)
	a.expect("5", "COPY 5 box2", "OK")
	wantLines(t, b.expect("n", "NOOP", "OK"), "* 4 EXISTS", "* 4 RECENT")
	lines := b.expect("f", "FETCH 4 FLAGS", "OK")
	wantLines(t, lines, `* 4 FETCH (FLAGS (\Flagged $keyword1 $keyword2 \Recent))`)
	b.expect("x", "CLOSE", "OK")
}

func TestImaptestMove(t *testing.T) {
	_, a, _ := imaptestEnv(t)
	a.expect("c", "CREATE box", "OK")
	for i := 0; i < 3; i++ {
		appendMsg(a, "box")
	}
	a.expect("c2", "CREATE box2", "OK")
	a.expect("s", "SELECT box", "OK")
	lines := a.expect("m", "MOVE 1 box2", "OK")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "* OK [COPYUID ") || lines[1] != "* 1 EXPUNGE" {
		t.Fatalf("move: %q", lines)
	}
	lines = a.expect("u", "UID MOVE 2 box2", "OK")
	if len(lines) != 2 || lines[1] != "* 1 EXPUNGE" {
		t.Fatalf("uid move: %q", lines)
	}
	// MOVE to the mailbox itself gives the message a new UID.
	lines = a.expect("m", "MOVE 1 box", "OK")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "* OK [COPYUID ") || lines[1] != "* 1 EXPUNGE" || lines[2] != "* 1 EXISTS" {
		t.Fatalf("move to itself: %q", lines)
	}
}

func TestImaptestSearchFlags(t *testing.T) {
	_, a, _ := imaptestEnv(t)
	a.expect("c", "CREATE box", "OK")
	for i := 0; i < 5; i++ {
		appendMsg(a, "box")
	}
	a.expect("s", "SELECT box", "OK")
	for _, c := range []string{`STORE 1 FLAGS ($hello)`, `STORE 2 FLAGS (\Seen \Flagged)`, `STORE 3 FLAGS (\Answered $hello)`,
		`STORE 4 FLAGS (\Flagged \Draft)`, `STORE 5 FLAGS (\Deleted \Answered)`} {
		a.expect("st", c, "OK")
	}
	for _, c := range []struct{ key, want string }{
		{"ANSWERED", "3 5"}, {"UNANSWERED", "1 2 4"}, {"DELETED", "5"}, {"UNDELETED", "1 2 3 4"},
		{"DRAFT", "4"}, {"UNDRAFT", "1 2 3 5"}, {"FLAGGED", "2 4"}, {"UNFLAGGED", "1 3 5"},
		{"SEEN", "2"}, {"UNSEEN", "1 3 4 5"}, {"KEYWORD $hello", "1 3"}, {"UNKEYWORD $hello", "2 4 5"},
		{"NEW", "1 3 4 5"}, {"OLD", ""}, {"RECENT", "1 2 3 4 5"},
	} {
		lines := a.expect("q", "SEARCH "+c.key, "OK")
		if want := strings.TrimSpace("* SEARCH " + c.want); len(lines) != 1 || lines[0] != want {
			t.Errorf("SEARCH %s: %q, want %q", c.key, lines, want)
		}
	}
}

func TestImaptestSubscribe(t *testing.T) {
	_, a, b := imaptestEnv(t)
	for _, c := range []string{"box/", "box/test", "box/test2/", "box/test3/", "box/test2/test", "box/test3/test3", "box/test2"} {
		a.send("c CREATE " + c + "\r\n")
		a.until("c")
	}
	for _, c := range []string{"box/test", "box/test2/test", "box/test3/test3"} {
		a.expect("s", "SUBSCRIBE "+c, "OK")
	}
	lines := b.expect("l", `LSUB "" box/%`, "OK")
	wantLines(t, lines, `* LSUB () "/" "box/test"`, `* LSUB (\Noselect) "/" "box/test2"`, `* LSUB (\Noselect) "/" "box/test3"`)
	if hasLine(lines, "box/test2/test") {
		t.Fatalf("%% matched deeper: %q", lines)
	}
	lines = b.expect("l", `LSUB "" *test`, "OK")
	wantLines(t, lines, `* LSUB () "/" "box/test"`, `* LSUB () "/" "box/test2/test"`)
	a.expect("u", "UNSUBSCRIBE box/test", "OK")
	if lines = b.expect("l", `LSUB "" box/%`, "OK"); slices.Contains(lines, `* LSUB () "/" "box/test"`) {
		t.Fatalf("unsubscribed still listed: %q", lines)
	}
}

func TestImaptestListExtended(t *testing.T) {
	_, a, _ := imaptestEnv(t)
	for _, c := range []string{"box/test1", "box/test2/", "box/test2/test1", "box/test3", "box/test4/test5", "box/test4/test52",
		"box/test6", "box/test7/test7", "box/test8/test8", "box/test8/test9"} {
		a.expect("c", "CREATE "+c, "OK")
	}
	for _, c := range []string{"box/test1", "box/test2/test1", "box/test6", "box/test7/test7", "box/test8/test8", "box/test8/test9"} {
		a.expect("s", "SUBSCRIBE "+c, "OK")
	}
	a.expect("d", "DELETE box/test6", "OK")
	lines := a.expect("l", `LIST "" (box/*2 box/test3)`, "OK")
	wantLines(t, lines, `* LIST (\HasChildren) "/" "box/test2"`, `* LIST (\HasNoChildren) "/" "box/test3"`, `* LIST (\HasNoChildren) "/" "box/test4/test52"`)
	if hasLine(lines, "box/test1") || hasLine(lines, `test5"`) {
		t.Fatalf("multiple patterns: %q", lines)
	}
	for _, c := range []string{`LIST (imaptest) "" ""`, `LIST (recursivematch) "" ""`, `LIST "" "" return (imaptest)`} {
		a.expect("b", c, "BAD")
	}
	a.expect("r", `LIST (remote) "" %`, "OK")
	lines = a.expect("l", `LIST (subscribed) "" box/*`, "OK")
	wantLines(t, lines, `* LIST (\Subscribed \HasNoChildren) "/" "box/test1"`, `* LIST (\Subscribed \HasNoChildren) "/" "box/test2/test1"`,
		`* LIST (\Noselect \NonExistent \Subscribed \HasNoChildren) "/" "box/test6"`, `* LIST (\Subscribed \HasNoChildren) "/" "box/test8/test9"`)
	lines = a.expect("l", `LIST (subscribed recursivematch) "" box/test2% return (children)`, "OK")
	wantLines(t, lines, `* LIST (\HasChildren) "/" "box/test2" (CHILDINFO ("SUBSCRIBED"))`)
	lines = a.expect("l", `LIST (subscribed recursivematch) "" *test7`, "OK")
	if slices.ContainsFunc(lines, func(l string) bool { return strings.HasSuffix(l, `"box/test7"`) }) || !slices.Contains(lines, `* LIST (\Subscribed \HasNoChildren) "/" "box/test7/test7"`) {
		t.Fatalf("recursivematch test7: %q", lines)
	}
	lines = a.expect("l", `LIST (subscribed recursivematch) "" *test8`, "OK")
	wantLines(t, lines, `* LIST (\HasChildren) "/" "box/test8" (CHILDINFO ("SUBSCRIBED"))`, `* LIST (\Subscribed \HasNoChildren) "/" "box/test8/test8"`)
	lines = a.expect("l", `LIST "" box/% return (children subscribed)`, "OK")
	wantLines(t, lines, `* LIST (\Subscribed \HasNoChildren) "/" "box/test1"`, `* LIST (\HasChildren) "/" "box/test2"`)
}
