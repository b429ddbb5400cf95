package imapd_test

import (
	"testing"
)

// Replays of imaptest scripts that go-imap's own example server
// (imapmemserver) fails: select, copy, move, search-flags, subscribe and
// listext here; fetch-envelope, search-addresses, id and atoms in
// imaptest_groups_test.go. The rules of the replay are in
// imaptest_runner_test.go.

// select: SELECT's untagged answers (RFC 9051 6.3.2).
func TestImaptestSelect(t *testing.T) {
	itReplay(t, itScript{state: itAuth}, func(it *itRun) {
		// The script begins with "ok delete $mailbox", though in state
		// auth imaptest has already deleted the mailbox, and DELETE of
		// a missing mailbox is NO (RFC 9051 6.3.5); any answer passes
		// here.
		it.cmd(1, "delete $mailbox", "")
		it.ok(1, "create $mailbox")
		it.appendNext(1, "ok", "")
		it.appendNext(1, "ok", "")
		it.cmd(1, "select $mailbox", "ok [read-write]",
			"* 2 exists", "* 2 recent", "* ok [unseen 1]",
			"* ok [uidvalidity $uidvalidity]", "* ok [uidnext $uidnext]")
	})
}

// copy: COPY keeps flags, keywords and INTERNALDATE, and the copies are
// \Recent in the session that has the destination selected.
func TestImaptestCopy(t *testing.T) {
	itReplay(t, itScript{conns: 2, state: itCreated}, func(it *itRun) {
		it.ok(1, "select $mailbox")
		for i := 0; i < 5; i++ {
			it.appendNext(1, "ok", "")
		}
		it.cmd(2, "delete ${mailbox}2", "")
		it.ok(2, "create ${mailbox}2")
		it.ok(2, "select ${mailbox}2")

		it.ok(1, `store 1 flags (\seen)`)
		it.ok(1, `store 2 flags (\draft \flagged)`)
		it.ok(1, `store 5 flags (\flagged $$keyword1 $$keyword2)`)

		it.ok(1, "fetch 1:5 (internaldate)",
			"* 1 fetch (internaldate $date1)", "* 2 fetch (internaldate $date2)",
			"* 4 fetch (internaldate $date4)", "* 5 fetch (internaldate $date5)")
		it.ok(1, "copy 1:2,4 ${mailbox}2")

		it.ok(2, "noop", "* 3 exists", "* 3 recent")
		it.ok(2, "fetch 1:3 (flags internaldate)",
			`* 1 fetch (flags (\recent \seen) internaldate $date1)`,
			`* 2 fetch (flags (\recent \draft \flagged) internaldate $date2)`,
			`* 3 fetch (flags (\recent) internaldate $date4)`)
		// Keywords need not be created by COPY, so the script makes
		// them known in the destination first.
		it.ok(2, "store 3 +flags ($$keyword1 $$keyword2)")

		it.ok(1, "copy 5 ${mailbox}2")
		it.ok(2, "noop", "* 4 exists", "* 4 recent")
		it.ok(2, "fetch 4 (flags internaldate)",
			`* 4 fetch (flags (\recent \flagged $$keyword1 $$keyword2) internaldate $date5)`)

		it.ok(2, "close")
		it.cmd(2, "delete ${mailbox}2", "")
	})
}

// move: MOVE (RFC 6851) sends COPYUID untagged before the EXPUNGEs, and
// a MOVE to the selected mailbox itself gives the message a new UID.
//
// imaptest's script names THREAD=REFERENCES in its capabilities header
// (apparently a slip for MOVE), so imaptest itself skips it against a
// server without THREAD; it runs here because we advertise MOVE.
func TestImaptestMove(t *testing.T) {
	itReplay(t, itScript{state: itCreated}, func(it *itRun) {
		it.appendNext(1, "ok", "")
		it.appendNext(1, "ok", "")
		it.appendNext(1, "ok", "")
		it.ok(1, "create ${mailbox}2")

		it.ok(1, "select ${mailbox}2", "* 0 exists",
			"* ok [uidvalidity $uidvalidity_dest]", "* ok [uidnext $uidnext_dest1]")

		it.ok(1, "select $mailbox")
		it.ok(1, "fetch 1:* uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)")
		it.ok(1, "move 1 ${mailbox}2", "* ok [copyuid $uidvalidity_dest $uid1 $uidnext_dest1]", "* 1 expunge")

		it.ok(1, "select ${mailbox}2", "* 1 exists",
			"* ok [uidvalidity $uidvalidity_dest]", "* ok [uidnext $uidnext_dest2]")
		it.ok(1, "select $mailbox", "* ok [uidvalidity $uidvalidity]", "* ok [uidnext $uidnext1]")
		it.ok(1, "uid move $uid2 ${mailbox}2", "* ok [copyuid $uidvalidity_dest $uid2 $uidnext_dest2]", "* 1 expunge")

		it.ok(1, "move 1 $mailbox", "* ok [copyuid $uidvalidity $uid3 $uidnext1]", "* 1 expunge", "* 1 exists")
	})
}

// search-flags: SEARCH by each flag and keyword.
func TestImaptestSearchFlags(t *testing.T) {
	itReplay(t, itScript{messages: 5}, func(it *itRun) {
		it.soft = true
		it.ok(1, "store 1 flags ($$hello)")
		it.ok(1, `store 2 flags (\seen \flagged)`)
		it.ok(1, `store 3 flags (\answered $$hello)`)
		it.ok(1, `store 4 flags (\flagged \draft)`)
		it.ok(1, `store 5 flags (\deleted \answered)`)
		for _, c := range [][2]string{
			{"answered", "3 5"}, {"unanswered", "1 2 4"},
			{"deleted", "5"}, {"undeleted", "1 2 3 4"},
			{"draft", "4"}, {"undraft", "1 2 3 5"},
			{"flagged", "2 4"}, {"unflagged", "1 3 5"},
			{"seen", "2"}, {"unseen", "1 3 4 5"},
			{"keyword $$hello", "1 3"}, {"unkeyword $$hello", "2 4 5"},
			{"new", "1 3 4 5"}, {"old", ""}, {"recent", "1 2 3 4 5"},
		} {
			it.ok(1, "search "+c[0], itSearchLine(c[1]))
		}
	})
}

// searchLine is the "* search ..." line a script expects.
func itSearchLine(nums string) string {
	if nums == "" {
		return "* search"
	}
	return "* search " + nums
}

// subscribe: LSUB of subscribed names, with \Noselect for the levels above
// them that "%" matches (RFC 3501 6.3.9), seen from another connection.
func TestImaptestSubscribe(t *testing.T) {
	itReplay(t, itScript{conns: 2, state: itAuth}, func(it *itRun) {
		it.ok(1, `list "" ""`, `* list () $sep ""`)

		for _, n := range []string{"test", "test2", "test2${sep}test", "test3${sep}test3"} {
			it.cmd(1, "unsubscribe $mailbox${sep}"+n, "")
		}
		for _, n := range []string{"", "test", "test2${sep}", "test3${sep}", "test2${sep}test", "test3${sep}test3"} {
			it.ok(1, "create $mailbox${sep}"+n)
		}
		// test2 only if the server has inferior mailboxes.
		it.cmd(1, "create $mailbox${sep}test2", "")

		it.ok(1, "subscribe $mailbox${sep}test")
		it.ok(1, "subscribe $mailbox${sep}test2${sep}test")
		it.ok(1, "subscribe $mailbox${sep}test3${sep}test3")

		it.ok(2, `lsub "" $mailbox${sep}%`,
			`* lsub () $sep $mailbox${sep}test`,
			`* lsub (\noselect) $sep $mailbox${sep}test2`,
			`* lsub (\noselect) $sep $mailbox${sep}test3`,
			`! lsub (\noselect) $sep $mailbox${sep}test2${sep}test`,
			`! lsub (\noselect) $sep $mailbox${sep}test3${sep}test3`)
		it.ok(2, `lsub "" *test`,
			`* lsub () $sep $mailbox${sep}test`,
			`* lsub () $sep $mailbox${sep}test2${sep}test`,
			`! lsub () $sep $mailbox${sep}test3${sep}test3`)

		it.ok(1, "unsubscribe $mailbox${sep}test")
		it.ok(2, `lsub "" $mailbox${sep}%`, `! lsub () $sep $mailbox${sep}test`)

		it.ok(1, "unsubscribe $mailbox${sep}test2${sep}test")
		it.ok(2, `lsub "" $mailbox${sep}*`,
			`! lsub () $sep $mailbox${sep}test`,
			`* lsub () $sep $mailbox${sep}test3${sep}test3`)

		it.ok(1, "unsubscribe $mailbox${sep}test3${sep}test3")
		it.ok(2, `lsub "" $mailbox${sep}%`, `! lsub () $sep $mailbox${sep}test3`)
	})
}

// listext: LIST-EXTENDED (RFC 5258): several patterns, selection and
// return options, CHILDINFO, errors.
func TestImaptestListExtended(t *testing.T) {
	itReplay(t, itScript{caps: []string{"LIST-EXTENDED"}, state: itCreated}, func(it *itRun) {
		it.ok(1, `list "" ""`, `* list () $sep ""`)
		for _, n := range []string{"test1", "test2${sep}", "test2${sep}test1", "test3", "test4${sep}test5",
			"test4${sep}test52", "test6", "test7${sep}test7", "test8${sep}test8", "test8${sep}test9"} {
			it.ok(1, "create $mailbox${sep}"+n)
		}
		for _, n := range []string{"test1", "test2${sep}test1", "test6", "test7${sep}test7", "test8${sep}test8", "test8${sep}test9"} {
			it.ok(1, "subscribe $mailbox${sep}"+n)
		}
		it.ok(1, "delete $mailbox${sep}test6")

		it.ok(1, `list "" ($mailbox${sep}*2 $mailbox${sep}test3)`,
			`! list () $sep $mailbox${sep}test1`,
			`* list () $sep $mailbox${sep}test2`,
			`! list () $sep $mailbox${sep}test2${sep}test1`,
			`* list () $sep $mailbox${sep}test3`,
			`! list () $sep $mailbox${sep}test4`,
			`! list () $sep $mailbox${sep}test4${sep}test5`,
			`* list () $sep $mailbox${sep}test4${sep}test52`,
			`! list () $sep $mailbox${sep}test6`)

		it.bad(1, `list (imaptest) "" ""`)
		it.bad(1, `list (recursivematch) "" ""`)
		it.bad(1, `list (recursivematch remote) "" ""`)
		it.bad(1, `list "" "" return (imaptest)`)
		it.ok(1, `list (remote) "" %`)

		it.ok(1, `list (subscribed) "" $mailbox${sep}*`,
			`* list (\subscribed) $sep $mailbox${sep}test1`,
			`* list (\subscribed) $sep $mailbox${sep}test2${sep}test1`,
			`* list ($!unordered $!ban=\noselect \subscribed \nonexistent) $sep $mailbox${sep}test6`,
			`* list (\subscribed) $sep $mailbox${sep}test7${sep}test7`,
			`* list (\subscribed) $sep $mailbox${sep}test8${sep}test9`)

		it.ok(1, `list (subscribed recursivematch) "" $mailbox${sep}test2% return (children)`,
			`* list (\haschildren) $sep $mailbox${sep}test2 (childinfo (subscribed))`,
			`! list (\subscribed) $sep $mailbox${sep}test2`,
			`! list (\subscribed) $sep $mailbox${sep}test2${sep}test1`)

		it.ok(1, `list "" $mailbox${sep}% return (children subscribed)`,
			`* list (\subscribed \hasnochildren) $sep $mailbox${sep}test1`,
			`* list ($!unordered $!ban=\subscribed \haschildren) $sep $mailbox${sep}test2`,
			`* list ($!unordered $!ban=\subscribed \hasnochildren) $sep $mailbox${sep}test3`,
			`* list ($!unordered $!ban=\subscribed \haschildren) $sep $mailbox${sep}test4`,
			`* list ($!unordered $!ban=\subscribed \haschildren) $sep $mailbox${sep}test7`,
			`* list ($!unordered $!ban=\subscribed \haschildren) $sep $mailbox${sep}test8`)

		it.ok(1, `list (subscribed recursivematch) "" *test7`,
			`! list () $sep $mailbox${sep}test7`,
			`* list (\subscribed) $sep $mailbox${sep}test7${sep}test7`)

		it.ok(1, `list (subscribed recursivematch) "" *test8`,
			`* list ($!unordered $!ban=\subscribed) $sep $mailbox${sep}test8 (childinfo ("subscribed"))`,
			`* list (\subscribed) $sep $mailbox${sep}test8${sep}test8`)

		it.ok(1, `list (subscribed recursivematch) "" ($mailbox${sep}test2)`,
			`* list () $sep $mailbox${sep}test2 (childinfo ("subscribed"))`,
			`! list () $sep $mailbox${sep}test2${sep}test1`)

		it.ok(1, `list (subscribed recursivematch) "" ($mailbox${sep}test2 $mailbox${sep}test2${sep}test1)`,
			`! list () $sep $mailbox${sep}test2 (childinfo ("subscribed"))`,
			`* list (\subscribed) $sep $mailbox${sep}test2${sep}test1`)

		it.ok(1, `list "" ($mailbox${sep}test7 $mailbox${sep}test7${sep}test7)`,
			`! list (\nonexistent) $sep $mailbox${sep}test7`,
			`* list () $sep $mailbox${sep}test7${sep}test7`)
	})
}
