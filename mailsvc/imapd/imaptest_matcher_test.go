package imapd_test

import (
	"testing"
)

// TestImaptestMatcher checks the replay's matching rules against answers
// written by hand, so that a lenient matcher cannot make the replays pass.
func TestImaptestMatcher(t *testing.T) {
	vars := map[string]string{"mailbox": "imaptest", "uid1": "5", "sep": "/"}
	for _, c := range []struct {
		pat, got string
		want     bool
	}{
		// FETCH items in any order, extras allowed; FLAGS in any
		// order, no extras but \Recent.
		{`1 fetch (flags (\seen))`, `1 FETCH (FLAGS (\Seen \Recent))`, true},
		{`1 fetch (flags (\seen))`, `1 FETCH (FLAGS (\Seen \Flagged))`, false},
		{`1 fetch (flags (\seen \recent))`, `1 FETCH (FLAGS (\Seen))`, false},
		{`1 fetch (flags ())`, `1 FETCH (FLAGS ())`, true},
		{`1 fetch (flags ($!unordered \seen))`, `1 FETCH (FLAGS (\Flagged \Seen))`, true},
		{`1 fetch (flags (\seen))`, `1 FETCH (UID 5 FLAGS (\Seen))`, true},
		{`1 fetch (uid $uid1)`, `1 FETCH (UID 5)`, true},
		{`1 fetch (uid $uid1)`, `1 FETCH (UID 6)`, false},
		{`2 fetch (uid $uid1)`, `1 FETCH (UID 5)`, false},
		{`1 fetch (envelope ("a" NIL))`, `1 FETCH (ENVELOPE (NIL "a"))`, false},
		{`1 fetch (envelope ("a" NIL))`, `1 FETCH (ENVELOPE ("A" NIL))`, true},
		{`1 fetch (envelope ($ NIL))`, `1 FETCH (ENVELOPE (("x") NIL))`, true},
		{`1 fetch (body[header.fields (from)] {3}` + "\r\n" + `abc)`,
			`1 FETCH (BODY[HEADER.FIELDS ("FROM")] {3}` + "\r\n" + `abc)`, true},
		{`1 fetch (body[header.fields (from)] {3}` + "\r\n" + `abc)`,
			`1 FETCH (BODY[HEADER.FIELDS ("FROM")] {3}` + "\r\n" + `abd)`, false},
		{`1 fetch (body[text]<0> "bod")`, `1 FETCH (BODY[TEXT]<0> {3}` + "\r\n" + `bod)`, true},
		// Literal text compares exactly.
		{`1 fetch (body[] "ab")`, `1 FETCH (BODY[] "AB")`, true},
		// LIST attributes in any order, extras allowed unless banned.
		{`list () $sep $mailbox/foo`, `LIST (\HasNoChildren) "/" "imaptest/foo"`, true},
		{`list (\subscribed) $sep $mailbox/foo`, `LIST (\HasNoChildren) "/" "imaptest/foo"`, false},
		{`list ($!unordered $!ban=\noselect \subscribed) / foo`, `LIST (\Subscribed \Noselect) "/" foo`, false},
		{`list ($!unordered $!ban=\noselect \subscribed) / foo`, `LIST (\Subscribed) "/" foo`, true},
		{`list () / foo`, `LIST () "/" foo (CHILDINFO ("SUBSCRIBED"))`, false},
		// Word counts must agree, except for OK/NO/BAD/BYE.
		{`search 1 2`, `SEARCH 1 2 3`, false},
		{`search`, `SEARCH`, true},
		{`search`, `SEARCH 1`, false},
		{`ok [unseen 1]`, `OK [UNSEEN 1] First unseen.`, true},
		{`ok [unseen 1]`, `OK [UNSEEN 12] First unseen.`, false},
		{`ok [uidnext $next]`, `OK [UIDNEXT 7] Predicted next UID`, true},
		// STATUS items in pairs, any order.
		{`status $mailbox (messages 1)`, `STATUS "imaptest" (UIDNEXT 4 MESSAGES 1)`, true},
		{`status $mailbox (messages 1)`, `STATUS "imaptest" (UIDNEXT 1 MESSAGES 4)`, false},
		// "$$" is a dollar sign.
		{`1 fetch (flags ($$hello))`, `1 FETCH (FLAGS ($hello))`, true},
		{`1 fetch (flags ($$hello))`, `1 FETCH (FLAGS ($world))`, false},
		// Sets with variables.
		{`esearch (tag $tag) uid all $uid1:$x`, `ESEARCH (TAG "1.2") UID ALL 5:9`, true},
		{`esearch (tag $tag) uid all $uid1:$x`, `ESEARCH (TAG "1.2") UID ALL 4:9`, false},
		// "$N": the message's sequence number now.
		{`$2 expunge`, `1 EXPUNGE`, true},
		{`$3 expunge`, `1 EXPUNGE`, false},
	} {
		m := &itMatcher{vars: itCopyVars(vars), seqmap: []uint32{0, 1, 2}}
		m.vars["tag"] = "1.2"
		pat, err := itParse([]byte(c.pat))
		if err != nil {
			t.Fatalf("%s: %v", c.pat, err)
		}
		got, err := itParse([]byte(c.got))
		if err != nil {
			t.Fatalf("%s: %v", c.got, err)
		}
		if m.line(pat, got) != c.want {
			t.Errorf("%s against %q: matched %v", c.pat, c.got, !c.want)
		}
	}
}

// TestImaptestMatcherCapture: a variable takes its value from the first
// match and must match it afterwards.
func TestImaptestMatcherCapture(t *testing.T) {
	m := &itMatcher{vars: map[string]string{}}
	pat, _ := itParse([]byte(`1 fetch (uid $u internaldate $d)`))
	got, _ := itParse([]byte(`1 FETCH (UID 42 INTERNALDATE "22-Feb-2008 17:06:23 +0000")`))
	if !m.line(pat, got) {
		t.Fatal("no match")
	}
	m.commit(true)
	if m.vars["u"] != "42" || m.vars["d"] != "22-Feb-2008 17:06:23 +0000" {
		t.Fatalf("captured %q", m.vars)
	}
	other, _ := itParse([]byte(`1 FETCH (UID 43 INTERNALDATE "22-Feb-2008 17:06:23 +0000")`))
	if m.line(pat, other) {
		t.Fatal("a captured variable matched another value")
	}
	// A failed attempt captures nothing.
	m2 := &itMatcher{vars: map[string]string{}}
	pat2, _ := itParse([]byte(`1 fetch (uid $v flags (\seen))`))
	if m2.line(pat2, got) {
		t.Fatal("matched without FLAGS")
	}
	m2.commit(false)
	if _, ok := m2.vars["v"]; ok {
		t.Fatal("kept a capture of a failed match")
	}
}
