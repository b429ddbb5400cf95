package imapd_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/mailsvc/mailtest"
)

// itDefaultMbox6 is imaptest's default.mbox of release-2.3 as its file
// has it (the runner's itDefaultMbox stands in for it where the file was
// not at hand): six messages, the n-th from usern@domain.org with subject
// "s" and body "body" followed by n written n times (s1, s22, s333...).
func itDefaultMbox6() []itMsg {
	var mbox []itMsg
	for n := 1; n <= 6; n++ {
		rep := strings.Repeat(fmt.Sprint(n), n)
		if n == 1 {
			rep = "1"
		}
		mbox = append(mbox, itMail(fmt.Sprintf("From: user%d@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s%s\n\nbody%s\n", n, rep, rep)))
	}
	return mbox
}

// Replays of imaptest's CONTEXT=SEARCH scripts (RFC 5267):
// search-context-update, -update2, -update3 and search-partial, as
// imaptest has them.

// search-context-update: a SEARCH RETURN (UPDATE) result follows STORE,
// EXPUNGE (REMOVEFROM naming the message by the number its EXPUNGE gives)
// and APPEND, until CANCELUPDATE.
func TestImaptestSearchContextUpdate(t *testing.T) {
	itReplay(t, itScript{caps: []string{"CONTEXT=SEARCH"}, state: itCreated, mbox: itDefaultMbox6()}, func(it *itRun) {
		for i := 0; i < 5; i++ {
			it.appendNext(1, "ok", "")
		}
		it.ok(1, "select $mailbox")
		it.ok(1, "search return (update) body body seen", "* esearch (tag $searchtag)")
		it.ok(1, `store 1,2,4 +flags \seen`, "* esearch (tag $searchtag) addto ($pos 1:2,4)")
		it.ok(1, `store 1,2 -flags \seen`, "* esearch (tag $searchtag) removefrom ($pos2 1:2)")
		it.ok(1, `store 3:5 +flags \deleted`)
		it.ok(1, "expunge", "* esearch (tag $searchtag) removefrom ($pos3 $4)", "* $3 expunge", "* $4 expunge", "* $5 expunge")
		it.appendNext(1, "ok", `$mailbox (\seen)`, "* 3 exists", "* esearch (tag $searchtag) addto ($pos4 3)")
		it.ok(1, `cancelupdate "$searchtag"`)
		it.ok(1, `store 1 +flags \seen`, "! esearch (tag $searchtag) addto ($pos5 1)")
	})
}

// search-context-update2: by sequence number, with ALL first.
func TestImaptestSearchContextUpdate2(t *testing.T) {
	itReplay(t, itScript{caps: []string{"CONTEXT=SEARCH"}, messages: 5, mbox: itDefaultMbox6()}, func(it *itRun) {
		it.ok(1, `store 1,2 +flags \seen`)
		it.ok(1, "search return (update all) or seen subject s22", "* esearch (tag $searchtag) all 1:2")
		it.ok(1, `store 3:5 +flags \seen`, "* esearch (tag $searchtag) addto ($pos 3:5)")
		it.ok(1, `store 1:5 -flags \seen`, "* esearch (tag $searchtag) removefrom ($pos2 1,3:5)")
		it.ok(1, `store 3,4 +flags \seen`, "* esearch (tag $searchtag) addto ($pos3 3:4)")
		it.ok(1, `store 3 +flags \deleted`)
		it.ok(1, "expunge", "* 3 expunge", "* esearch (tag $searchtag) removefrom ($pos4 3)")
	})
}

// search-context-update3: by UID.
func TestImaptestSearchContextUpdate3(t *testing.T) {
	itReplay(t, itScript{caps: []string{"CONTEXT=SEARCH"}, messages: 6, mbox: itDefaultMbox6()}, func(it *itRun) {
		it.ok(1, `store 1 +flags \deleted`)
		it.ok(1, "expunge")
		it.ok(1, "fetch 1:5 uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)",
			"* 4 fetch (uid $uid4)", "* 5 fetch (uid $uid5)")
		it.ok(1, `store 1,2 +flags \seen`)
		it.ok(1, "uid search return (update all) or seen subject s33", "* esearch (tag $searchtag) uid all $uid1:$uid2")
		it.ok(1, `store 3:5 +flags \seen`, "* esearch (tag $searchtag) uid addto ($pos $uid3:$uid5)")
		it.ok(1, `store 1:5 -flags \seen`, "* esearch (tag $searchtag) uid removefrom ($pos2 $uid1,$uid3:$uid5)")
		it.ok(1, `uid store $uid3,$uid4 +flags \seen`, "* esearch (tag $searchtag) uid addto ($pos3 $uid3:$uid4)")
		it.ok(1, `store 3 +flags \deleted`)
		it.ok(1, "expunge", "* 3 expunge", "* esearch (tag $searchtag) uid removefrom ($pos4 $uid3)")
	})
}

// search-partial: PARTIAL (RFC 5267 4.4) by sequence number and by UID,
// and the ranges it refuses. Its mbox: five messages whose bodies are
// their numbers.
func TestImaptestSearchPartial(t *testing.T) {
	mbox := []itMsg{}
	for _, b := range []string{"1", "2", "3", "4", "5"} {
		mbox = append(mbox, itMail("\n"+b+"\n"))
	}
	itReplay(t, itScript{caps: []string{"CONTEXT=SEARCH"}, mbox: mbox}, func(it *itRun) {
		for _, c := range [][2]string{
			{"search return (partial 1:1) all", "partial (1:1 1)"},
			{"search return (partial 2:4) all", "partial (2:4 2:4)"},
			{"search return (partial 4:2) all", "partial (2:4 2:4)"},
			{"search return (partial 1:6) all", "partial (1:6 1:5)"},
			{"search return (partial 6:6) all", "partial (6:6 nil)"},
			{"search return (partial 1:3) 1:2,4:5", "partial (1:3 1:2,4)"},
			{"search return (partial 2:3) 1:2,4:5", "partial (2:3 2,4)"},
			{"search return (partial 2:4) 1:2,4:5", "partial (2:4 2,4:5)"},
			{"search return (partial 2:10) 1:2,4:5", "partial (2:10 2,4:5)"},
		} {
			it.ok(1, c[0], "* esearch (tag $tag) "+c[1])
		}
		it.ok(1, "fetch 1 uid", "* 1 fetch (uid $uid1)")
		it.ok(1, "fetch 2 uid", "* 2 fetch (uid $uid2)")
		it.ok(1, "fetch 3 uid", "* 3 fetch (uid $uid3)")
		it.ok(1, "fetch 5 uid", "* 5 fetch (uid $uid5)")
		it.ok(1, "uid search return (partial 1:1) all", "* esearch (tag $tag) uid partial (1:1 $uid1)")
		it.ok(1, "uid search return (partial 2:2) all", "* esearch (tag $tag) uid partial (2:2 $uid2)")
		it.ok(1, `store 2 +flags \deleted`)
		it.ok(1, "expunge")
		it.ok(1, "uid search return (partial 2:2) all", "* esearch (tag $tag) uid partial (2:2 $uid3)")
		it.ok(1, "uid search return (partial 5:10) all", "* esearch (tag $tag) uid partial (5:10 nil)")
		it.bad(1, "search return (partial 1) all")
		it.bad(1, "search return (partial 1:*) all")
		it.bad(1, "search return (partial *:1) all")
	})
}

// TestSearchContextOtherSession: a kept result follows the changes of
// another session (flags, arrivals, expunges) at NOOP and during IDLE's
// updates alike; a session keeps at most four such searches; CANCELUPDATE
// of a tag it does not keep is a BAD; SORT refuses UPDATE and PARTIAL
// (CONTEXT=SORT is not offered).
func TestSearchContextOtherSession(t *testing.T) {
	itReplay(t, itScript{caps: []string{"CONTEXT=SEARCH"}, conns: 2, messages: 4, mbox: itDefaultMbox6()}, func(it *itRun) {
		it.ok(1, "uid fetch 1:* uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)", "* 4 fetch (uid $uid4)")
		it.ok(1, "uid search return (update) flagged", "* esearch (tag $u) uid")
		it.ok(1, "search return (update count) flagged", "* esearch (tag $s) count 0")
		it.ok(2, `store 2,4 +flags \flagged`)
		it.ok(1, "noop", "* esearch (tag $u) uid addto ($p1 $uid2,$uid4)", "* esearch (tag $s) addto ($p2 2,4)")
		it.appendNext(2, "ok", `$mailbox (\flagged)`)
		it.ok(1, "noop", "* 5 exists", "* esearch (tag $u) uid addto ($p3 $uid5)", "* esearch (tag $s) addto ($p4 5)")
		it.ok(2, `store 1:2 +flags \deleted`)
		it.ok(2, "expunge")
		it.ok(1, "noop", "* 1 expunge", "* esearch (tag $u) uid removefrom ($p5 $uid2)", "* esearch (tag $s) removefrom ($p6 1)",
			"! esearch (tag $u) $!extra addto")
		it.ok(2, `store 2 -flags \flagged`) // was 4
		it.ok(1, "noop", "* esearch (tag $u) uid removefrom ($p7 $uid4)", "* esearch (tag $s) removefrom ($p8 2)")
		it.ok(1, `cancelupdate "$u"`)
		it.ok(2, `store 1 +flags \flagged`)
		it.ok(1, "noop", "* esearch (tag $s) addto ($p9 1)", "! esearch (tag $u) $!extra")
		it.bad(1, `cancelupdate "nosuchtag"`)
		for i := 0; i < 3; i++ {
			it.ok(1, "search return (update) seen")
		}
		it.no(1, "search return (update) deleted")
		it.bad(1, "sort return (update) (arrival) utf-8 all")
		it.bad(1, "sort return (partial 1:2) (arrival) utf-8 all")
	})
}

// TestSearchContextImaplib: Python's imaplib, a client that is not ours,
// reads CONTEXT=SEARCH's PARTIAL result and, on one connection, the
// ADDTO and REMOVEFROM another connection's STORE and EXPUNGE cause.
func TestSearchContextImaplib(t *testing.T) {
	py := mailtest.Python3(t)
	forEachEngine(t, func(t *testing.T, e *env) {
		for i := 0; i < 3; i++ {
			e.deliver(e.john, "", msgPlain)
		}
		dir := t.TempDir()
		ca := filepath.Join(dir, "ca.pem")
		tcheck(t, os.WriteFile(ca, certPEM(t, e), 0o600), "ca")
		host, port, _ := net.SplitHostPort(e.tlsAddr)
		script := `
import imaplib, ssl, sys
host, port, cafile, pw = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)
imaplib.Commands['CANCELUPDATE'] = ('SELECTED',)
a = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
b = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
for m in (a, b):
    m.login('john@example.test', pw)
    m.select('INBOX')
typ, data = a.capability()
assert b'CONTEXT=SEARCH' in data[0].split(), data
typ, data = a._simple_command('SEARCH', 'RETURN (PARTIAL 2:3) ALL')
assert typ == 'OK', data
typ, data = a.response('ESEARCH')
assert data[-1].endswith(b'PARTIAL (2:3 2:3)'), data
typ, data = a._simple_command('UID', 'SEARCH RETURN (UPDATE) FLAGGED')
assert typ == 'OK', data
tag = a.response('ESEARCH')[1][-1].split(b'"')[1]
b.store('1,3', '+FLAGS', '(\\Flagged)')
a.noop()
typ, data = a.response('ESEARCH')
assert data[-1] == b'(TAG "' + tag + b'") UID ADDTO (0 1,3)', data
b.store('1', '+FLAGS', '(\\Deleted)')
b.expunge()
a.noop()
typ, data = a.response('ESEARCH')
assert data[-1] == b'(TAG "' + tag + b'") UID REMOVEFROM (0 1)', data
typ, data = a._simple_command('CANCELUPDATE', '"' + tag.decode() + '"')
assert typ == 'OK', data
b.store('1', '+FLAGS', '(\\Flagged)')
a.noop()
typ, data = a.response('ESEARCH')
assert data == [None], data
for m in (a, b):
    m.logout()
print('ok')
`
		f := filepath.Join(dir, "context.py")
		tcheck(t, os.WriteFile(f, []byte(script), 0o600), "script")
		out, err := exec.Command(py, f, host, port, ca, password).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Fatalf("imaplib: %v\n%s", err, out)
		}
	})
}
